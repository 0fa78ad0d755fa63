"""ONNX graph of the fast tier, built by hand (flat features, no padding).

Inputs (one batch of B posts holding N features in all):
  feature_ids     int32   [N]     hashed feature ids (1 .. buckets), all posts concatenated
  feature_rows    int64   [N, 1]  which post (0 .. B-1) each feature belongs to
  feature_counts  float32 [B, 1]  features per post (0 allowed: that post gets the bias only)
Output:
  probs           float32 [B, 3]  softmax(W · mean(table[ids of the post]) + b), or with a hidden
                                  layer softmax(W2 · relu(W1 · mean(...) + b1) + b2)

The mean of the post's embedding rows is a ScatterND(reduction="add") into a [B, D] zero tensor
divided by max(count, 1) — the same function as torch.nn.EmbeddingBag(mode="mean") used in
training, with no padding work. The table is stored as symmetric int8 with one scale for the
whole table, folded into the head weights (or as fp32 when int8 is off).

  python models/training/export_fast.py SRC.onnx OUT.onnx   # re-export from a padded fp32 graph
"""
from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(table: np.ndarray, weight: np.ndarray, bias: np.ndarray, int8: bool = True,
          out_layer: tuple[np.ndarray, np.ndarray] | None = None) -> onnx.ModelProto:
    """`weight`, `bias`: the layer applied to the mean; `out_layer` (W2, b2): a ReLU and a second
    layer after it (a hidden layer), or None for a linear head."""
    table = table.astype(np.float32).copy()
    table[0] = 0.0
    dim = table.shape[1]
    inits = [
        numpy_helper.from_array(weight.astype(np.float32), "head_w"),
        numpy_helper.from_array(bias.astype(np.float32), "head_b"),
        numpy_helper.from_array(np.array([dim], dtype=np.int64), "dim"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "zero_i"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one_i"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one_f"),
    ]
    nodes = []
    if int8:
        # one symmetric scale for the whole table, folded into the head (the mean is linear):
        # W · (s·mean(q)) = (s·W) · mean(q), so the graph never multiplies by it
        scale = float(np.abs(table).max()) / 127.0
        q = np.clip(np.round(table / scale), -127, 127).astype(np.int8)
        inits[0] = numpy_helper.from_array((weight * scale).astype(np.float32), "head_w")
        inits.append(numpy_helper.from_array(q, "table_q"))
        nodes += [
            helper.make_node("Gather", ["table_q", "feature_ids"], ["eq"], axis=0),
            helper.make_node("Cast", ["eq"], ["e"], to=TensorProto.FLOAT),
        ]
    else:
        inits.append(numpy_helper.from_array(table, "table"))
        nodes.append(helper.make_node("Gather", ["table", "feature_ids"], ["e"], axis=0))
    nodes += [
        helper.make_node("Shape", ["feature_counts"], ["cshape"]),
        helper.make_node("Slice", ["cshape", "zero_i", "one_i"], ["bdim"]),
        helper.make_node("Concat", ["bdim", "dim"], ["zshape"], axis=0),
        helper.make_node("ConstantOfShape", ["zshape"], ["zeros"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
        helper.make_node("ScatterND", ["zeros", "feature_rows", "e"], ["summed"], reduction="add"),
        helper.make_node("Max", ["feature_counts", "one_f"], ["denom"]),
        helper.make_node("Div", ["summed", "denom"], ["pooled"]),
    ]
    if out_layer is None:
        nodes.append(helper.make_node("Gemm", ["pooled", "head_w", "head_b"], ["logits"], transB=1))
    else:
        inits += [numpy_helper.from_array(out_layer[0].astype(np.float32), "out_w"),
                  numpy_helper.from_array(out_layer[1].astype(np.float32), "out_b")]
        nodes += [
            helper.make_node("Gemm", ["pooled", "head_w", "head_b"], ["hidden_pre"], transB=1),
            helper.make_node("Relu", ["hidden_pre"], ["hidden"]),
            helper.make_node("Gemm", ["hidden", "out_w", "out_b"], ["logits"], transB=1),
        ]
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=-1))
    graph = helper.make_graph(
        nodes, "crowdpulse-fast",
        [
            helper.make_tensor_value_info("feature_ids", TensorProto.INT32, ["n"]),
            helper.make_tensor_value_info("feature_rows", TensorProto.INT64, ["n", 1]),
            helper.make_tensor_value_info("feature_counts", TensorProto.FLOAT, ["batch", 1]),
        ],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 3])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="crowdpulse")
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def flat_feeds(feats: list[list[int]]) -> dict[str, np.ndarray]:
    ids = np.fromiter((i for f in feats for i in f), dtype=np.int32)
    rows = np.repeat(np.arange(len(feats), dtype=np.int64), [len(f) for f in feats]).reshape(-1, 1)
    counts = np.array([[len(f)] for f in feats], dtype=np.float32)
    return {"feature_ids": ids, "feature_rows": rows, "feature_counts": counts}


def weights_from_padded(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = onnx.load(path)
    w = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    return w["table.weight"], w["head.weight"], w["head.bias"]


if __name__ == "__main__":
    t, w, b = weights_from_padded(sys.argv[1])
    onnx.save(build(t, w, b), sys.argv[2])
