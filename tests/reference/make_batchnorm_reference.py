#!/usr/bin/env python3
"""Reference values for tests/tests/batch_norm_reference.rs, from PyTorch itself in float64.

Unlike make_reference.py (numpy re-implementations of PyTorch's formulas), this script runs PyTorch's
own modules: torch.nn.Linear, torch.nn.BatchNorm1d (defaults: momentum 0.1, eps 1e-5, affine,
track_running_stats), torch.nn.ReLU, torch.nn.CrossEntropyLoss and torch.optim.Adam, all converted
to float64 with `.double()`. PyTorch is not a dependency of the project and does not run in CI: the
script is run by hand, in any environment with torch (CPU is enough), e.g.

    /path/to/venv/bin/python tests/reference/make_batchnorm_reference.py

and its output is pasted over the generated block at the end of tests/tests/batch_norm_reference.rs
(each constant carries #[rustfmt::skip], so the pasted text stays byte for byte what this prints).

Every input is written inline below, exactly as in the Rust test, and rounded to float32 before it
is widened to float64, so the reference starts from the very float32 values the Rust test loads.
Deterministic: no randomness (every parameter is loaded explicitly), no I/O besides stdout. The
script also asserts that no ReLU input is near 0 (a kink there would make the gradient ill-defined
under rounding).
"""
import copy

import torch
from torch import nn

f32 = lambda values: torch.tensor(values, dtype=torch.float32).double()

# The parameters, nn.Linear layout (W is [outputs][inputs]); BatchNorm1d's weight γ and bias β.
W1 = [[0.3, -0.2, 0.5], [-0.4, 0.1, 0.25], [0.15, 0.45, -0.35], [-0.05, -0.6, 0.2]]
B1 = [0.1, -0.05, 0.2, 0.0]
GAMMA = [1.25, 0.75, 1.5, 0.5]
BETA = [0.1, -0.2, 0.3, -0.05]
W2 = [[0.4, -0.3, 0.2, 0.5], [-0.25, 0.35, -0.45, 0.1]]
B2 = [0.05, -0.1]

# The main batch (5 samples) and its classes; the backward cases also use its first 2, 3 and 4.
X_TRAIN = [
    [0.5, -1.2, 0.8],
    [-0.3, 0.9, 1.5],
    [1.1, 0.4, -0.7],
    [-0.8, -0.5, 0.2],
    [0.2, 1.3, -1.1],
]
CLASSES = [1, 0, 1, 0, 0]
# The second and third train-mode batches of the running-statistics case (3 and 5 samples).
X_STEP2 = [[0.9, -0.4, 0.3], [-1.0, 0.6, -0.2], [0.1, 0.2, 1.4]]
X_STEP3 = [
    [1.5, -0.6, -0.4],
    [-0.2, -1.1, 0.9],
    [0.7, 0.8, 0.1],
    [-1.3, 0.3, -0.9],
    [0.4, -0.2, 0.6],
]
# Running statistics loaded for the eval-mode backward case.
RUNNING_MEAN = [-0.02, -0.3, 0.05, 0.1]
RUNNING_VAR = [0.8, 1.3, 0.45, 0.6]

LR = 0.01
ADAM_STEPS = 3
# A ReLU input closer to 0 than this fails the script (pick other inputs).
RELU_MARGIN = 0.1


def load(linear, weight, bias):
    with torch.no_grad():
        linear.weight.copy_(f32(weight))
        linear.bias.copy_(f32(bias))


def bn_only():
    """[dense(3, 4), batch_norm(4)] in float64 with the reference parameters."""
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    load(model[0], W1, B1)
    load(model[1], GAMMA, BETA)
    return model


def mlp():
    """[dense(3, 4), batch_norm(4), relu, dense(4, 2)] in float64 with the reference parameters."""
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()
    load(model[0], W1, B1)
    load(model[1], GAMMA, BETA)
    load(model[3], W2, B2)
    return model


def check_relu_margin(model, x, what):
    # On a copy: a train-mode forward pass moves BatchNorm1d's running statistics, even under no_grad.
    model = copy.deepcopy(model)
    with torch.no_grad():
        pre = model[1](model[0](x))
    margin = pre.abs().min().item()
    assert margin > RELU_MARGIN, f"{what}: a ReLU input is {margin} from 0"


def grads(model):
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def params(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def running(bn):
    return torch.cat([bn.running_mean, bn.running_var])


def backward(model, x, classes, what):
    """Sum-reduction cross-entropy of the batch: (outputs, loss, every parameter gradient)."""
    check_relu_margin(model, x, what)
    model.zero_grad()
    out = model(x)
    loss = nn.CrossEntropyLoss(reduction="sum")(out, torch.tensor(classes))
    loss.backward()
    return out.detach(), loss.detach(), grads(model)


def rust(name, values):
    values = torch.as_tensor(values, dtype=torch.float64).reshape(-1).tolist()
    body = ", ".join(repr(float(v)) for v in values)
    return f"#[rustfmt::skip]\nconst {name}: [f64; {len(values)}] = [{body}];"


def main():
    lines = []
    x_train = f32(X_TRAIN)

    # 1. Train-mode forward of 4 samples, and the running statistics after it.
    model = bn_only().train()
    with torch.no_grad():
        out = model(x_train[:4])
    lines += [rust("TRAIN_FORWARD_OUTPUT", out), rust("TRAIN_FORWARD_RUNNING", running(model[1]))]

    # 2. Three train-mode forward passes (4, 3 and 5 samples), running statistics after each, then
    # the eval-mode outputs of X_TRAIN.
    model = bn_only().train()
    trace = []
    with torch.no_grad():
        for x in [x_train[:4], f32(X_STEP2), f32(X_STEP3)]:
            model(x)
            trace.append(running(model[1]))
        model.eval()
        out = model(x_train)
    lines += [rust("THREE_STEPS_RUNNING", torch.cat(trace)), rust("EVAL_OUTPUT", out)]

    # 3 and 4. Train-mode backward, batches of 5, 2 and 3 samples.
    for n in [5, 2, 3]:
        out, loss, g = backward(mlp().train(), x_train[:n], CLASSES[:n], f"train batch of {n}")
        lines += [rust(f"TRAIN_{n}_OUTPUT", out), rust(f"TRAIN_{n}_LOSS", loss)]
        lines.append(rust(f"TRAIN_{n}_GRADS", g))

    # 5. Three Adam steps (lr 0.01, mean-reduction cross-entropy) on the first 4 samples.
    model = mlp().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    param_trace, running_trace = [], []
    for step in range(ADAM_STEPS):
        check_relu_margin(model, x_train[:4], f"Adam step {step + 1}")
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x_train[:4]), torch.tensor(CLASSES[:4]))
        loss.backward()
        optimizer.step()
        param_trace.append(params(model))
        running_trace.append(running(model[1]))
    lines += [rust("ADAM_PARAMS", torch.cat(param_trace))]
    lines += [rust("ADAM_RUNNING", torch.cat(running_trace))]

    # 6. Eval-mode backward of X_TRAIN with the running statistics above.
    model = mlp()
    with torch.no_grad():
        model[1].running_mean.copy_(f32(RUNNING_MEAN))
        model[1].running_var.copy_(f32(RUNNING_VAR))
    model.eval()
    out, loss, g = backward(model, x_train, CLASSES, "eval")
    lines += [rust("EVAL_BACKWARD_OUTPUT", out), rust("EVAL_BACKWARD_LOSS", loss)]
    lines.append(rust("EVAL_BACKWARD_GRADS", g))

    print(
        "// Generated by tests/reference/make_batchnorm_reference.py"
        f" (torch {torch.__version__}, float64); do not edit by hand."
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
