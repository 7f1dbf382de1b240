#!/usr/bin/env python3
"""Reference values for tests/tests/reference.rs, computed with PyTorch's definitions in float64.

PyTorch cannot be installed where these tests are written, so this script re-implements, in numpy,
exactly the formulas PyTorch documents (and implements in its default single-tensor code paths):

* nn.Linear: y = x @ W.T + b, W of shape (out, in).
* nn.Tanh / nn.ReLU, nn.CrossEntropyLoss on logits (log-sum-exp minus the target logit),
  nn.MSELoss (mean of squared errors; one output here), nn.BCEWithLogitsLoss
  (max(z, 0) - z*y + log1p(exp(-|z|)), gradient sigmoid(z) - y), nn.L1Loss (|z - y|, gradient
  sign(z - y)) and nn.HuberLoss with delta = 1 (e*e/2 for |e| < 1 with gradient e, else |e| - 1/2
  with gradient sign(e)).
* The gradients of those, by hand (what autograd computes); a batch loss is the mean over samples.
* torch.optim.SGD (dampening 0; the momentum buffer is a copy of the gradient on the first step),
  torch.optim.Adam (L2 weight decay added to the gradient), torch.optim.AdamW (p *= 1 - lr*wd first),
  with bias corrections 1 - beta**t as in `_single_tensor_adam`.
* torch.optim.lr_scheduler.StepLR and CosineAnnealingLR (closed forms, `_get_closed_form_lr`).
* torch.nn.utils.clip_grad_norm_: total L2 norm, clip_coef = max_norm / (norm + 1e-6), clamped to 1.

Every input is written inline below and converted to float32 first, so that the reference starts from
exactly the float32 values the Rust test loads. Deterministic: no randomness, no I/O besides stdout.
Run `python3 tests/reference/make_reference.py` (numpy only) and paste its output over the generated
block at the end of tests/tests/reference.rs (each constant carries #[rustfmt::skip], so the pasted
text stays byte for byte what this script prints).
"""
import math

import numpy as np

f32 = lambda values: np.array(values, dtype=np.float32).astype(np.float64)

# The 3 -> 4 -> 2 network (tanh, softmax cross-entropy).
W1 = f32([[0.3, -0.2, 0.5], [-0.4, 0.1, 0.25], [0.15, 0.45, -0.35], [-0.05, -0.6, 0.2]])
B1 = f32([0.1, -0.05, 0.2, 0.0])
W2 = f32([[0.4, -0.3, 0.2, 0.5], [-0.25, 0.35, -0.45, 0.1]])
B2 = f32([0.05, -0.1])
# The 3 -> 4 -> 1 network (ReLU, MSE) shares W1, B1 and uses the first row of W2.
W2_MSE = f32([[0.4, -0.3, 0.2, 0.5]])
B2_MSE = f32([0.05])

X_A, CLASS_A, VALUE_A = f32([0.5, -1.2, 0.8]), 1, float(np.float32(0.7))
X_B, CLASS_B = f32([-0.3, 0.9, 1.5]), 0
# A target far from the ReLU network's output of X_A: Huber's linear region (|error| > 1).
VALUE_FAR = float(np.float32(2.5))


def flatten(params):
    return np.concatenate([p.reshape(-1) for p in params])


def unflatten(flat, shapes):
    out, offset = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        out.append(flat[offset:offset + n].reshape(shape))
        offset += n
    return out


SHAPES_CE = [(4, 3), (4,), (2, 4), (2,)]
SHAPES_MSE = [(4, 3), (4,), (1, 4), (1,)]


def forward_backward(flat, x, target, activation, head, shapes):
    """One sample: output, loss and the flat gradient (nn.Linear layout: W then b, per layer)."""
    w1, b1, w2, b2 = unflatten(flat, shapes)
    z1 = w1 @ x + b1
    if activation == "tanh":
        h = np.tanh(z1)
        dact = 1.0 - h * h
    else:  # relu; torch's ReLU backward passes the gradient where the input is > 0
        h = np.maximum(z1, 0.0)
        dact = (z1 > 0).astype(np.float64)
    z2 = w2 @ h + b2
    if head == "ce":
        m = z2.max()
        lse = m + math.log(np.exp(z2 - m).sum())
        loss = lse - z2[target]
        dz2 = np.exp(z2 - lse)
        dz2[target] -= 1.0
    elif head == "bce":  # one logit, class target 0 or 1
        z, y = z2[0], float(target)
        loss = max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))
        dz2 = np.array([1.0 / (1.0 + math.exp(-z)) - y])
    elif head == "l1":
        err = z2[0] - target
        loss = abs(err)
        dz2 = np.array([float(np.sign(err))])
    elif head == "huber":  # delta = 1
        err = z2[0] - target
        loss = 0.5 * err * err if abs(err) < 1.0 else abs(err) - 0.5
        dz2 = np.array([err if abs(err) < 1.0 else float(np.sign(err))])
    else:  # mse, one output
        err = z2[0] - target
        loss = err * err
        dz2 = np.array([2.0 * err])
    gw2 = np.outer(dz2, h)
    gb2 = dz2
    dz1 = (w2.T @ dz2) * dact
    gw1 = np.outer(dz1, x)
    gb1 = dz1
    return z2, loss, flatten([gw1, gb1, gw2, gb2])


def batch_grad(flat):
    """Mean gradient of the two-sample batch (what reduction='mean' gives)."""
    _, la, ga = forward_backward(flat, X_A, CLASS_A, "tanh", "ce", SHAPES_CE)
    _, lb, gb = forward_backward(flat, X_B, CLASS_B, "tanh", "ce", SHAPES_CE)
    return (la + lb) / 2.0, (ga + gb) / 2.0


def sgd(p, lr, momentum, nesterov, wd, steps=3):
    buf, trace = None, []
    for _ in range(steps):
        _, g = batch_grad(p)
        g = g + wd * p
        if momentum != 0.0:
            buf = g.copy() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        trace.append(p)
    return trace


def adam(p, lr, wd, decoupled, beta1=0.9, beta2=0.999, eps=1e-8, steps=3):
    m, v, trace = np.zeros_like(p), np.zeros_like(p), []
    for t in range(1, steps + 1):
        _, g = batch_grad(p)
        if decoupled:
            p = p * (1.0 - lr * wd)
        else:
            g = g + wd * p
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        bias_correction1 = 1.0 - beta1 ** t
        bias_correction2 = 1.0 - beta2 ** t
        step_size = lr / bias_correction1
        denom = np.sqrt(v) / math.sqrt(bias_correction2) + eps
        p = p - step_size * m / denom
        trace.append(p)
    return trace


def rust(name, values):
    values = np.atleast_1d(np.asarray(values, dtype=np.float64)).reshape(-1)
    body = ", ".join(repr(float(v)) for v in values)
    return f"#[rustfmt::skip]\nconst {name}: [f64; {len(values)}] = [{body}];"


def main():
    p_ce = flatten([W1, B1, W2, B2])
    p_mse = flatten([W1, B1, W2_MSE, B2_MSE])
    lines = []
    out, loss, grad = forward_backward(p_ce, X_A, CLASS_A, "tanh", "ce", SHAPES_CE)
    lines += [rust("TANH_CE_OUTPUT", out), rust("TANH_CE_LOSS", loss), rust("TANH_CE_GRADS", grad)]
    out, loss, grad = forward_backward(p_mse, X_A, VALUE_A, "relu", "mse", SHAPES_MSE)
    lines += [rust("RELU_MSE_OUTPUT", out), rust("RELU_MSE_LOSS", loss), rust("RELU_MSE_GRADS", grad)]
    for name, activation, head, target in [
        ("TANH_BCE", "tanh", "bce", CLASS_A),
        ("RELU_L1", "relu", "l1", VALUE_A),
        ("RELU_HUBER_NEAR", "relu", "huber", VALUE_A),
        ("RELU_HUBER_FAR", "relu", "huber", VALUE_FAR),
    ]:
        out, loss, grad = forward_backward(p_mse, X_A, target, activation, head, SHAPES_MSE)
        lines += [rust(f"{name}_LOSS", loss), rust(f"{name}_GRADS", grad)]
    loss, grad = batch_grad(p_ce)
    lines += [rust("BATCH_LOSS", loss), rust("BATCH_GRADS", grad)]
    runs = {
        "SGD_MOMENTUM": sgd(p_ce, 0.1, 0.9, False, 0.01),
        "SGD_NESTEROV": sgd(p_ce, 0.1, 0.9, True, 0.01),
        "ADAM": adam(p_ce, 0.01, 0.0, False),
        "ADAM_L2": adam(p_ce, 0.01, 0.1, False),
        "ADAMW": adam(p_ce, 0.01, 0.1, True),
    }
    for name, trace in runs.items():
        lines.append(rust(f"{name}_PARAMS", np.concatenate(trace)))
    # StepLR(step_size=3, gamma=0.5) and CosineAnnealingLR(T_max=10, eta_min=0.001) from lr 0.1.
    lines.append(rust("STEP_LR", [0.1 * 0.5 ** (e // 3) for e in range(12)]))
    cosine = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    lines.append(rust("COSINE_LR", cosine))
    # clip_grad_norm_ on the batch's mean gradient.
    norm = float(np.sqrt((grad * grad).sum()))
    clip = lambda max_norm: min(1.0, max_norm / (norm + 1e-6))
    lines += [rust("GRAD_NORM", norm), rust("CLIP_FACTOR_0_1", clip(0.1)), rust("CLIP_FACTOR_10", clip(10.0))]
    print("// Generated by tests/reference/make_reference.py; do not edit by hand.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
