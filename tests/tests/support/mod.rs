//! Network shapes shared by the gradient and dropout tests.

use tinytrain::prelude::*;

/// Dense layers through `widths` (inputs first, outputs last), each hidden one followed by
/// `activation` and then, when `dropout` is not empty, by a dropout layer of the next rate in
/// `dropout` (one per hidden layer). The output layer has no activation.
pub fn dense_stack(widths: &[usize], activation: Activation, dropout: &[f32]) -> Vec<Layer> {
    assert!(dropout.is_empty() || dropout.len() == widths.len() - 2);
    let mut layers = Vec::new();
    for (k, pair) in widths.windows(2).enumerate() {
        layers.push(Layer::dense(pair[0], pair[1]));
        if k + 2 < widths.len() {
            layers.push(Layer::Activation(activation));
            layers.extend(dropout.get(k).map(|&p| Layer::Dropout { p }));
        }
    }
    layers
}
