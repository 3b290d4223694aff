"""The primitive ops: every node of a graph is one of these.

elementwise  Add Sub Neg Mul Div Pow Exp Log Sqrt Abs Relu LeakyRelu Tanh Sigmoid Clip Cast Clone
reduce       Sum Max Min LogSoftmax
movement     Reshape Transpose BroadcastTo Getitem ScatterAdd Cat Stack
matmul       MatMul

Everything else (mean, var, softmax, squeeze, ...) is written with these in tensor.py.
"""
