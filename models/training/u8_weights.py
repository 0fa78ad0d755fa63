"""Rewrite a dynamically quantised ONNX model's int8 MatMulInteger weights as uint8 (U8U8), exactly.

Why: onnxruntime runs U8S8 MatMulInteger (uint8 activations x int8 weights) with VPMADDUBSW on
x86 CPUs without VNNI (AVX2, AVX-512 without VNNI). That instruction adds pairs of products into
int16 and saturates, so the same model gives other probabilities on those CPUs: up to 0.21 apart
on the golden posts of crowdpulse's accurate tier (AMD EPYC, AVX2), against the goldens written on
a VNNI machine. onnxruntime's quantisation guide names the cure: U8U8 (or 7-bit weights). U8U8
runs through 16-bit products, so it cannot saturate.

The rewrite is exact: w_u8 = w_s8 + 128 with zero point zp_s8 + 128, so (w_u8 - zp_u8) * scale is
the same number as (w_s8 - zp_s8) * scale for every weight. Nothing else in the graph changes.

    python models/training/u8_weights.py IN.onnx OUT.onnx
"""

import sys

import numpy as np
import onnx
from onnx import numpy_helper


def to_u8u8(model: onnx.ModelProto) -> int:
    """Converts, in place, every int8 weight (and its zero point) that MatMulInteger reads as B. Returns how many."""
    inits = {i.name: i for i in model.graph.initializer}
    b_inputs = set()
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        b = node.input[1]
        zp = node.input[3] if len(node.input) > 3 else ""
        if b in inits and inits[b].data_type == onnx.TensorProto.INT8:
            b_inputs.add(b)
            if zp:
                if zp not in inits or inits[zp].data_type != onnx.TensorProto.INT8:
                    raise SystemExit(f"{node.name}: int8 weight {b} with a zero point that is not an int8 initializer")
                b_inputs.add(zp)
    # A weight read by another node as well would change meaning there: refuse.
    for node in model.graph.node:
        if node.op_type == "MatMulInteger":
            continue
        shared = b_inputs.intersection(node.input)
        if shared:
            raise SystemExit(f"{node.op_type} {node.name} also reads {sorted(shared)}: not rewritten")
    for name in sorted(b_inputs):
        old = numpy_helper.to_array(inits[name])
        new = (old.astype(np.int16) + 128).astype(np.uint8)
        inits[name].CopyFrom(numpy_helper.from_array(new, name))
    return len(b_inputs)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(sys.argv[1])
    n = to_u8u8(model)
    onnx.save(model, sys.argv[2])
    print(f"{n} int8 MatMulInteger weights and zero points rewritten as uint8 -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
