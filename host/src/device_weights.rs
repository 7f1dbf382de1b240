//! A device's trained parameters from its serial log: the weights frames of
//! [`tinytrain_experiments::wire::weights`] (firmware feature `dump-weights`), reassembled into a
//! [`Weights`] (`tinytrain decode --serial-log LOG --out DIR` writes it to `DIR/weights.json`),
//! batch norms with their running statistics included.

use anyhow::{bail, Context};
use tinytrain::spec::DenseLayout;
use tinytrain_experiments::wire::weights::BATCH_NORM_PARTS;
use tinytrain_experiments::{frame, wire};

use crate::weights::{BatchNormWeights, DenseWeights, Weights};

pub use tinytrain_experiments::wire::weights::{BatchNormChunk, Chunk};

/// The chunk in a frame's JSON text (`None`: not a weights frame, or malformed).
pub fn parse_chunk(json: &str) -> Option<Chunk> {
    wire::weights::parse(&serde_json::from_str(json).ok()?)
}

/// The weights in a serial log's good frames (lines that fail their CRC are ignored): `None` if the
/// log has no weights frame; an error if a layer is incomplete or the frames disagree.
pub fn from_serial_log(text: &str) -> Option<anyhow::Result<Weights>> {
    let values: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| frame::open(line).ok())
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    let chunks: Vec<Chunk> = values.iter().filter_map(wire::weights::parse).collect();
    let batch_norms: Vec<BatchNormChunk> = values
        .iter()
        .filter_map(wire::weights::parse_batch_norm)
        .collect();
    (!chunks.is_empty()).then(|| assemble_all(&chunks, &batch_norms))
}

/// [`assemble`] the dense layers' chunks and the batch norms' into one [`Weights`].
pub fn assemble_all(chunks: &[Chunk], batch_norms: &[BatchNormChunk]) -> anyhow::Result<Weights> {
    Ok(Weights {
        batch_norms: assemble_batch_norms(batch_norms)?,
        ..assemble(chunks)?
    })
}

/// Puts each batch norm's chunks together, checking that its four tensors arrived whole, once.
fn assemble_batch_norms(chunks: &[BatchNormChunk]) -> anyhow::Result<Vec<BatchNormWeights>> {
    let count = chunks.iter().map(|c| c.index + 1).max().unwrap_or(0);
    (0..count)
        .map(|k| {
            let mine: Vec<&BatchNormChunk> = chunks.iter().filter(|c| c.index == k).collect();
            let first = mine
                .first()
                .with_context(|| format!("no frame of batch norm {k} arrived"))?;
            let (n, after_dense) = (first.features, first.after_dense);
            let mut parts = [(); 4].map(|_| vec![None; n]);
            for chunk in &mine {
                if (chunk.features, chunk.after_dense) != (n, after_dense) {
                    bail!("the frames of batch norm {k} disagree on its shape");
                }
                for (i, &v) in chunk.values.iter().enumerate() {
                    let slot = parts[chunk.part]
                        .get_mut(chunk.offset + i)
                        .with_context(|| {
                            format!("a frame of batch norm {k} runs past its {n} features")
                        })?;
                    if slot.replace(v).is_some() {
                        bail!(
                            "value {} of batch norm {k}'s {} arrived twice",
                            chunk.offset + i,
                            BATCH_NORM_PARTS[chunk.part]
                        );
                    }
                }
            }
            let [weight, bias, running_mean, running_var] = parts.map(|part| {
                let missing = part.iter().filter(|v| v.is_none()).count();
                (missing == 0)
                    .then(|| part.into_iter().flatten().collect::<Vec<f32>>())
                    .ok_or(missing)
            });
            let whole = |name: usize, part: Result<Vec<f32>, usize>| {
                part.map_err(|missing| {
                    anyhow::anyhow!(
                        "batch norm {k}'s {} is missing {missing} of {n} values (a damaged frame?)",
                        BATCH_NORM_PARTS[name]
                    )
                })
            };
            Ok(BatchNormWeights {
                after_dense,
                weight: whole(0, weight)?,
                bias: whole(1, bias)?,
                running_mean: whole(2, running_mean)?,
                running_var: whole(3, running_var)?,
            })
        })
        .collect()
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
    // The batch norms come in frames of their own ([`from_serial_log`]).
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
        weights_frame::for_each_frame(&layers, &[], &params, &[], |json| {
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

    /// A network with a batch norm: its γ, β and running statistics come in frames of their own
    /// and decode to the weights.json entry, bit for bit; a lost frame is an error naming the tensor.
    #[test]
    fn batch_norm_frames_decode_bit_for_bit() {
        let layers = [
            Layer::dense(4, 70),
            Layer::batch_norm(70),
            Layer::Activation(tinytrain::layers::Activation::Relu),
            Layer::dense(70, 3),
        ];
        let plan = tinytrain::spec::Plan::of(&layers).unwrap();
        let value =
            |i: usize| f32::from_bits(0x3e00_0000 ^ (i as u32).wrapping_mul(2_654_435_761) >> 10);
        let params: Vec<f32> = (0..plan.params).map(value).collect();
        let stats: Vec<f32> = (0..plan.stats).map(|i| value(i + 9999)).collect();
        let mut log = String::new();
        weights_frame::for_each_frame(&layers, &[], &params, &stats, |json| {
            log.push_str(std::str::from_utf8(json).unwrap());
            log.push_str(std::str::from_utf8(&frame::trailer(json)).unwrap());
        });
        let weights = from_serial_log(&log).unwrap().unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&weights.flat()), bits(&params));
        let bn = &weights.batch_norms[0];
        assert_eq!(bn.after_dense, 1);
        assert_eq!(bits(&bn.running_mean), bits(&stats[..70]));
        assert_eq!(bits(&bn.running_var), bits(&stats[70..140]));
        // 70 features: two frames per tensor; drop the second of the running variance.
        let lost: String = log
            .lines()
            .filter(|l| !(l.contains("\"running_var\"") && l.contains("\"offset\":64")))
            .map(|l| format!("{l}\n"))
            .collect();
        let message = from_serial_log(&lost).unwrap().unwrap_err().to_string();
        assert_eq!(
            message,
            "batch norm 0's running_var is missing 6 of 70 values (a damaged frame?)"
        );
    }
}
