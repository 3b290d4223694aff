"""The primitive ops: every node of a graph is one of these.

elementwise  Add Sub Neg Mul Div Pow Exp Log Sqrt Abs Relu LeakyRelu Tanh Sigmoid Clip Cast Clone
reduce       Sum Max Min LogSoftmax
movement     Reshape Transpose BroadcastTo Getitem ScatterAdd Cat Stack
matmul       MatMul
nn           Linear CrossEntropy BinaryCrossEntropy  (coarse: one node for x W^T + b, for
             -log softmax(z)[target], and for the binary cross-entropy; used by tg.nn.functional)

Everything else (mean, var, softmax, squeeze, ...) is written with these in tensor.py.
In the formulas, z is the op's output and g the gradient arriving from above (dL/dz).
"""
