//! A device's trained parameters from its serial log: the weights frames of
//! [`tinytrain_experiments::wire::weights`] (firmware feature `dump-weights`), reassembled into a
//! [`Weights`] (`tinytrain decode --serial-log LOG --out DIR` writes it to `DIR/weights.json`).

use anyhow::{bail, Context};
use tinytrain::spec::DenseLayout;
use tinytrain_experiments::{frame, wire};

use crate::weights::{DenseWeights, Weights};

pub use tinytrain_experiments::wire::weights::Chunk;

/// The chunk in a frame's JSON text (`None`: not a weights frame, or malformed).
pub fn parse_chunk(json: &str) -> Option<Chunk> {
    wire::weights::parse(&serde_json::from_str(json).ok()?)
}

/// The weights in a serial log's good frames (lines that fail their CRC are ignored): `None` if the
/// log has no weights frame; an error if a layer is incomplete or the frames disagree.
pub fn from_serial_log(text: &str) -> Option<anyhow::Result<Weights>> {
    let chunks: Vec<Chunk> = text
        .lines()
        .filter_map(|line| frame::open(line).ok())
        .filter_map(parse_chunk)
        .collect();
    (!chunks.is_empty()).then(|| assemble(&chunks))
}

/// Puts chunks together, checking that every layer's parameters arrived exactly once.
pub fn assemble(chunks: &[Chunk]) -> anyhow::Result<Weights> {
    let layers = chunks.iter().map(|c| c.layer + 1).max().unwrap_or(0);
    let mut weights = Vec::with_capacity(layers);
    for k in 0..layers {
        let mine: Vec<&Chunk> = chunks.iter().filter(|c| c.layer == k).collect();
        let first = mine
            .first()
            .with_context(|| format!("no weights frame of dense layer {k} arrived"))?;
        let (inputs, outputs) = (first.inputs, first.outputs);
        let len = inputs
            .checked_mul(outputs)
            .and_then(|n| n.checked_add(outputs))
            .context("layer shape overflows")?;
        let mut flat = vec![None; len];
        for chunk in &mine {
            if (chunk.inputs, chunk.outputs) != (inputs, outputs) {
                bail!("the weights frames of dense layer {k} disagree on its shape");
            }
            for (i, &v) in chunk.values.iter().enumerate() {
                let slot = flat
                    .get_mut(chunk.offset + i)
                    .with_context(|| format!("a weights frame of layer {k} runs past its end"))?;
                if slot.replace(v).is_some() {
                    bail!(
                        "parameter {} of dense layer {k} arrived twice",
                        chunk.offset + i
                    );
                }
            }
        }
        let missing = flat.iter().filter(|v| v.is_none()).count();
        if missing > 0 {
            bail!("dense layer {k} ({inputs}→{outputs}) is missing {missing} of {len} parameters (a damaged frame?)");
        }
        let flat: Vec<f32> = flat.into_iter().flatten().collect();
        weights.push(DenseWeights::from_flat(
            &DenseLayout::at(inputs, outputs, 0),
            &flat,
        ));
    }
    // A device trains no batch norm yet (`train --device` refuses `--batch-norm`): its frames
    // carry dense layers only.
    Ok(Weights {
        layers: weights,
        ..Weights::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tinytrain::spec::Layer;
    use tinytrain_experiments::weights_frame;

    /// Frames produced natively by the firmware's code, decoded back bit for bit.
    #[test]
    fn device_frames_decode_to_the_same_weights_and_damage_is_caught() {
        let layers = [
            Layer::dense(4, 20),
            Layer::Activation(tinytrain::layers::Activation::Tanh),
            Layer::dense(20, 3),
        ];
        let params: Vec<f32> = (0..163u32)
            .map(|i| f32::from_bits(0x3f00_0000 ^ i.wrapping_mul(2_654_435_761) >> 9))
            .collect();
        let mut log = String::new();
        weights_frame::for_each_frame(&layers, &params, |json| {
            log.push_str(std::str::from_utf8(json).unwrap());
            log.push_str(std::str::from_utf8(&frame::trailer(json)).unwrap());
        });
        let weights = from_serial_log(&log).unwrap().unwrap();
        assert_eq!(weights.layers.len(), 2);
        assert_eq!(weights.layers[0].weight.len(), 20);
        assert_eq!(weights.layers[0].weight[0].len(), 4);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&weights.flat()), bits(&params));
        // The decoder's epoch reader counts the weights frames as good non-epoch frames.
        let decoded = crate::decode::read_serial_log(&log);
        assert_eq!((decoded.rejected, decoded.other_frames), (0, 3));

        // One damaged frame: its CRC fails, the layer is incomplete, and that is an error.
        let damaged = log.replacen("\"offset\":64", "\"offset\":65", 1);
        let message = from_serial_log(&damaged).unwrap().unwrap_err().to_string();
        assert!(message.contains("missing 36 of 100"), "{message}");
        assert!(from_serial_log("no frames here\n").is_none());
    }
}
