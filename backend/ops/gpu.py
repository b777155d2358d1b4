"""GPU memory of a worker process, for Prometheus. Reads torch's CUDA allocator only when
torch is already loaded (an engine ran or is loaded): a scrape never imports torch."""
import sys

from prometheus_client.core import GaugeMetricFamily


class GpuMemoryCollector:
    def __init__(self, torch_module=None) -> None:
        self._torch = torch_module

    def describe(self):
        """Nothing to say before a scrape (registration must not touch torch)."""
        return []

    def _cuda(self):
        torch = self._torch or sys.modules.get("torch")
        # Another thread may be importing torch right now (the heartbeat lists engines).
        cuda = getattr(torch, "cuda", None)
        try:
            return cuda if cuda is not None and cuda.is_available() else None
        except AttributeError:
            return None

    def collect(self):
        cuda = self._cuda()
        if cuda is None:
            return
        families = {
            "allocated": GaugeMetricFamily(
                "medsam_gpu_memory_allocated_bytes", "Memory held by tensors of this process",
                labels=["device", "name"]),
            "reserved": GaugeMetricFamily(
                "medsam_gpu_memory_reserved_bytes", "Memory reserved by this process's allocator",
                labels=["device", "name"]),
            "peak": GaugeMetricFamily(
                "medsam_gpu_memory_peak_allocated_bytes",
                "Highest tensor memory of this process since it started",
                labels=["device", "name"]),
            "free": GaugeMetricFamily(
                "medsam_gpu_memory_free_bytes", "Free memory on the device (all processes)",
                labels=["device", "name"]),
            "total": GaugeMetricFamily(
                "medsam_gpu_memory_total_bytes", "Memory of the device",
                labels=["device", "name"]),
        }
        for index in range(cuda.device_count()):
            labels = [str(index), cuda.get_device_name(index)]
            free, total = cuda.mem_get_info(index)
            families["allocated"].add_metric(labels, cuda.memory_allocated(index))
            families["reserved"].add_metric(labels, cuda.memory_reserved(index))
            families["peak"].add_metric(labels, cuda.max_memory_allocated(index))
            families["free"].add_metric(labels, free)
            families["total"].add_metric(labels, total)
        yield from families.values()
