"""Volume (video) predictor: prompts on slices, memory propagation both ways.

Follows SAM 2's video predictor for one object: a prompt on an untracked slice
makes it a conditioning slice decoded without memory; propagation visits the
slices in order, each conditioned on the conditioning slices, the six
previous tracked slices and up to 16 object pointers. A prompt on a tracked
slice corrects it using the previous mask logits and memory; with
`corrections_as_conditioning` (the engine's choice) it also becomes a
conditioning slice, as every prompt is a constraint an annotator set.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.nn import functional as F

from model.medsam2.frames import logits_to_original, prompt_points
from model.medsam2.holes import fill_small_holes
from model.medsam2.model import FrameFeatures, FrameMemory, MedSAM2Model


@dataclass
class TrackState:
    cond: dict[int, FrameMemory] = field(default_factory=dict)
    non_cond: dict[int, FrameMemory] = field(default_factory=dict)
    pending: dict[int, FrameMemory] = field(default_factory=dict)
    pending_is_cond: dict[int, bool] = field(default_factory=dict)
    points: dict[int, tuple[Tensor, Tensor]] = field(default_factory=dict)
    reverse_of: dict[int, bool] = field(default_factory=dict)


class VolumePredictor:
    """frames: a sequence of normalised (3, S, S) tensors (see `frames.VolumeFrames`);
    `shape` is the original (rows, cols) that prompts and outputs use."""

    def __init__(
        self,
        model: MedSAM2Model,
        frames: Sequence[Tensor],
        shape: tuple[int, int],
        fill_hole_area: int = 8,
        corrections_as_conditioning: bool = False,
        feature_cache_size: int = 2,
    ) -> None:
        self.model = model
        self.frames = frames
        self.shape = (int(shape[0]), int(shape[1]))
        self.num_frames = len(frames)
        self.fill_hole_area = fill_hole_area
        self.corrections_as_conditioning = corrections_as_conditioning
        self.device = next(model.parameters()).device
        self.state = TrackState()
        self._features: OrderedDict[int, FrameFeatures] = OrderedDict()
        self._cache_size = feature_cache_size
        self.frames_encoded = 0
        self.seconds_encoding = 0.0

    def features(self, frame: int) -> FrameFeatures:
        cached = self._features.get(frame)
        if cached is None:
            started = time.perf_counter()
            image = self.frames[frame].to(self.device, torch.float32)[None]
            cached = self.model.encode_image(image)
            self.frames_encoded += 1
            self.seconds_encoding += time.perf_counter() - started
            self._features[frame] = cached
            while len(self._features) > self._cache_size:
                self._features.popitem(last=False)
        self._features.move_to_end(frame)
        return cached

    def _check_frame(self, frame: int) -> int:
        if not 0 <= int(frame) < self.num_frames:
            raise ValueError(f"slice {frame} is out of range: there are slices "
                             f"0..{self.num_frames - 1}")
        return int(frame)

    def _stored(self, frame: int) -> FrameMemory | None:
        state = self.state
        return state.pending.get(frame) or state.cond.get(frame) or state.non_cond.get(frame)

    @torch.inference_mode()
    def add_prompt(
        self,
        frame: int,
        box: Sequence[float] | None = None,
        points: Sequence[tuple[float, float, int]] | None = None,
        keep_previous_points: bool = False,
    ) -> Tensor:
        """Prompt a slice with a box and/or clicks (x, y, label) on the original grid;
        returns its (rows, cols) logits. A box replaces the slice's earlier prompts."""
        frame = self._check_frame(frame)
        coords, labels = prompt_points(self.shape, self.model.image_size, box, points)
        coords, labels = coords.to(self.device), labels.to(self.device)
        if keep_previous_points and box is None and frame in self.state.points:
            old_coords, old_labels = self.state.points[frame]
            coords = torch.cat([old_coords, coords], dim=1)
            labels = torch.cat([old_labels, labels], dim=1)
        self.state.points[frame] = (coords, labels)
        initial = frame not in self.state.reverse_of
        reverse = False if initial else self.state.reverse_of[frame]
        previous = self._stored(frame)
        previous_logits = None
        if previous is not None:
            previous_logits = torch.clamp(previous.pred_masks.to(self.device), -32.0, 32.0)
        features = self.features(frame)
        if initial:
            pix_feat = self.model.without_memory(features)
        else:
            pix_feat = self._memory_conditioned(frame, features, reverse)
        heads = self.model.sam_heads(pix_feat, features.high_res, (coords, labels),
                                     mask_inputs=previous_logits,
                                     multimask=labels.shape[1] <= 1)
        out = FrameMemory(
            pred_masks=fill_small_holes(heads.low_res_masks, self.fill_hole_area),
            obj_ptr=heads.obj_ptr, object_score_logits=heads.object_score_logits,
            iou=heads.ious.max(dim=-1).values,
        )
        self.state.pending[frame] = out
        self.state.pending_is_cond[frame] = initial or self.corrections_as_conditioning
        return logits_to_original(out.pred_masks, self.shape)[0, 0]

    def _memory_conditioned(self, frame: int, features: FrameFeatures, reverse: bool) -> Tensor:
        if not self.state.cond:
            raise RuntimeError("no conditioning slice: prompt a slice first")
        memory, memory_pos, pointers = self.model.track_memory(
            frame, self.state.cond, self.state.non_cond, self.num_frames, reverse)
        return self.model.attend(features, memory, memory_pos, pointers)

    def _commit_prompts(self) -> None:
        """Encode the memory of prompted slices and move them into the tracking state."""
        state = self.state
        for frame, out in state.pending.items():
            high_res = F.interpolate(out.pred_masks.to(self.device),
                                     size=(self.model.image_size,) * 2, mode="bilinear",
                                     align_corners=False)
            out.maskmem_features, out.maskmem_pos_enc = self.model.encode_memory(
                self.features(frame), high_res, out.object_score_logits, binarize=True)
            target = state.cond if state.pending_is_cond[frame] else state.non_cond
            target[frame] = out
        state.pending.clear()
        state.pending_is_cond.clear()
        if not state.cond:
            raise RuntimeError("no conditioning slice: prompt a slice first")
        for frame in state.cond:
            state.non_cond.pop(frame, None)

    @torch.inference_mode()
    def propagate(
        self, start: int | None = None, reverse: bool = False, max_frames: int | None = None
    ) -> Iterator[tuple[int, Tensor, FrameMemory]]:
        """Track from `start` (default: the first conditioning slice) to the end, or
        to slice 0 in reverse; yields (slice, (rows, cols) logits, its output)."""
        self._commit_prompts()
        if start is None:
            start = min(self.state.cond)
        start = self._check_frame(start)
        max_frames = self.num_frames if max_frames is None else max_frames
        if reverse:
            end = max(start - max_frames, 0)
            order = range(start, end - 1, -1) if start > 0 else range(0)
        else:
            order = range(start, min(start + max_frames, self.num_frames - 1) + 1)
        for frame in order:
            out = self.state.cond.get(frame)
            if out is None:
                out = self._track(frame, reverse)
                self.state.non_cond[frame] = out
            self.state.reverse_of[frame] = reverse
            yield frame, logits_to_original(out.pred_masks, self.shape)[0, 0], out

    def _track(self, frame: int, reverse: bool) -> FrameMemory:
        features = self.features(frame)
        pix_feat = self._memory_conditioned(frame, features, reverse)
        heads = self.model.sam_heads(pix_feat, features.high_res, multimask=True)
        memory, memory_pos = self.model.encode_memory(
            features, heads.high_res_masks, heads.object_score_logits, binarize=False)
        return FrameMemory(
            pred_masks=fill_small_holes(heads.low_res_masks, self.fill_hole_area),
            obj_ptr=heads.obj_ptr, object_score_logits=heads.object_score_logits,
            iou=heads.ious.max(dim=-1).values,
            maskmem_features=memory, maskmem_pos_enc=memory_pos,
        )

    def reset(self) -> None:
        """Forget every prompt and tracked slice (image features stay cached)."""
        self.state = TrackState()
