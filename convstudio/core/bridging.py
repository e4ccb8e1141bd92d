"""Deleting a block from the middle of a chain: join the block's neighbours so no gap is left.

A block with exactly one input and one output can be taken out of a chain and its input fed
straight into its output, when the shapes allow it (joining adds no error that the network did
not have before). The window offers this; the edit itself lives here so it is tested headless.
"""

from __future__ import annotations

from .network import Network, NetworkError
from .shapes import analyze

__all__ = ["join_neighbours", "joinable_neighbours"]


def _problems(network: Network, input_shape: tuple[int, ...], num_classes: int,
              ignore: str | None = None) -> set[tuple]:
    analysis = analyze(network, input_shape, num_classes)
    return {(issue.block_id, issue.message) for issue in analysis.errors if issue.block_id != ignore}


def joinable_neighbours(network: Network, block_id: str,
                        input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10) -> tuple[str, str] | None:
    """``(input, output)`` of ``block_id`` when deleting it may join them, else None.

    It must have exactly one input and one output, the output must take no other input from the
    same source, and the joined network must have no error the network had not before.
    """
    if block_id not in network:
        return None
    inputs, outputs = network.inputs_of(block_id), network.outputs_of(block_id)
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    src, dst = inputs[0], outputs[0]
    if src in network.inputs_of(dst):
        return None  # already fed directly (a skip edge): nothing to join
    trial = network.copy()
    try:
        _remove_and_join(trial, block_id, src, dst)
    except NetworkError:
        return None
    before = _problems(network, input_shape, num_classes, ignore=block_id)
    after = _problems(trial, input_shape, num_classes)
    return (src, dst) if after <= before else None


def join_neighbours(network: Network, block_id: str) -> tuple[str, str]:
    """Delete ``block_id`` and feed its input into its output (at the input position it had).

    Raises :class:`NetworkError` when the block does not have exactly one input and one output.
    Use :func:`joinable_neighbours` first to know whether the shapes allow it.
    """
    inputs, outputs = network.inputs_of(block_id), network.outputs_of(block_id)
    if len(inputs) != 1 or len(outputs) != 1:
        raise NetworkError(f"{block_id} does not sit between exactly two blocks")
    src, dst = inputs[0], outputs[0]
    _remove_and_join(network, block_id, src, dst)
    return src, dst


def _remove_and_join(network: Network, block_id: str, src: str, dst: str) -> None:
    index = network.inputs_of(dst).index(block_id)
    network.remove_block(block_id)
    network.connect(src, dst, index)
