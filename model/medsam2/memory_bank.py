"""Medical SAM 2's self-sorting memory bank for streams of related 2D images.

Each entry keeps a memory (features and position encoding), the predicted IoU
of the mask it was made from (its confidence) and the image embedding.

Write: append while fewer than `capacity` entries. When full, take the stored
entry i least similar to the new memory and the stored entry j most similar
to i (cosine similarity of flattened memory features); the new memory
replaces j when sim(new, i) < sim(i, j) -- j is redundant next to i, the new
one is not -- and its confidence exceeds confidence_j - `confidence_margin`.

Read: cosine similarity of the current image embedding to the stored ones,
softmax, then entries drawn by those probabilities (Medical SAM 2), or the
most similar ones (`deterministic`, for reproducible results).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F


@dataclass(frozen=True)
class BankEntry:
    features: Tensor
    position: Tensor
    confidence: float
    image_embedding: Tensor


@dataclass(frozen=True)
class WriteOutcome:
    """action: 'appended', 'replaced' (entry `index` was dropped) or 'rejected'."""

    action: str
    index: int | None = None


def _unit_rows(tensors: list[Tensor]) -> Tensor:
    return F.normalize(torch.stack([t.float().flatten() for t in tensors]), dim=1)


class MemoryBank:
    def __init__(self, capacity: int = 16, confidence_margin: float = 0.1) -> None:
        if capacity < 2:
            raise ValueError("the bank needs room for at least two entries")
        self.capacity = capacity
        self.confidence_margin = confidence_margin
        self.entries: list[BankEntry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def write(self, entry: BankEntry) -> WriteOutcome:
        if len(self.entries) < self.capacity:
            self.entries.append(entry)
            return WriteOutcome("appended", len(self.entries) - 1)
        stored = _unit_rows([e.features for e in self.entries])
        new = _unit_rows([entry.features])[0]
        to_new = stored @ new
        among = stored @ stored.T
        among.fill_diagonal_(float("-inf"))
        least = int(torch.argmin(to_new))
        closest = int(torch.argmax(among[least]))
        if (to_new[least] < among[least, closest]
                and entry.confidence > self.entries[closest].confidence - self.confidence_margin):
            del self.entries[closest]
            self.entries.append(entry)
            return WriteOutcome("replaced", closest)
        return WriteOutcome("rejected")

    def similarities(self, image_embedding: Tensor) -> Tensor:
        """Cosine similarity of an image embedding to every stored one."""
        stored = _unit_rows([e.image_embedding for e in self.entries])
        return stored @ _unit_rows([image_embedding])[0]

    def read(
        self,
        image_embedding: Tensor,
        count: int = 1,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
    ) -> list[BankEntry]:
        """`count` entries for an image: drawn with replacement by softmax(similarity),
        or the `count` most similar ones when `deterministic`."""
        if not self.entries:
            raise RuntimeError("the memory bank is empty: prompt an image first")
        similarity = self.similarities(image_embedding)
        if deterministic:
            chosen = torch.topk(similarity, min(count, len(self.entries))).indices
        else:
            chosen = torch.multinomial(F.softmax(similarity, dim=0), count, replacement=True,
                                       generator=generator)
        return [self.entries[int(i)] for i in chosen]
