"""``deconvolve_eelspecnet`` on a dask.distributed cluster of worker processes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import eels_signal

distributed = pytest.importorskip("dask.distributed")
pytestmark = [
    # A cluster of worker processes takes seconds to start and to stop.
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::hyperspy_eelspecnet.inference.domain.OutOfDomainWarning"),
]

#: Navigation chunks of the test map: 8 blocks of 2 spectra.
CHUNKS = (1, 2, -1)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes."""
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _lazy_map():
    s = eels_signal(shape=(4, 4), lazy=True)
    s.data = s.data.rechunk(CHUNKS)
    return s


def _network_loads() -> tuple[int, int]:
    """(loads, cache hits) of ``load_network`` in this process."""
    from hyperspy_eelspecnet.models.registry import load_network

    info = load_network.cache_info()
    return info.misses, info.hits


def test_distributed_run_equals_local_run(client, tiny_model) -> None:
    local = _lazy_map().deconvolve_eelspecnet(tiny_model).data.compute(scheduler="sync")
    lazy = _lazy_map().deconvolve_eelspecnet(tiny_model)
    np.testing.assert_array_equal(lazy.data.compute(), local)
    eager = eels_signal(shape=(4, 4)).deconvolve_eelspecnet(tiny_model)
    np.testing.assert_array_equal(eager.data, local)


def test_model_is_loaded_once_per_worker_not_shipped_in_tasks(client, tiny_model) -> None:
    import cloudpickle

    before = client.run(_network_loads)
    for _ in range(2):
        restored = _lazy_map().deconvolve_eelspecnet(tiny_model)
        graph = cloudpickle.dumps(dict(restored.data.__dask_graph__()))
        assert b"ModelSpec" in graph and b"keras.src" not in graph
        restored.data.compute()
    after = client.run(_network_loads)
    assert all(loads <= 1 for loads, _ in after.values())
    calls = sum(sum(counts) for counts in after.values()) - sum(
        sum(counts) for counts in before.values())
    assert calls == 2 * 8
