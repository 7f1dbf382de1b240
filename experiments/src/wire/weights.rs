//! A network's parameters as serial frames, so a device can hand its trained weights to the host
//! (`tinytrain decode --serial-log LOG --out DIR` writes them to `DIR/weights.json`).
//!
//! One frame (see [`frame`](super::frame): JSON, `*`, CRC-32, `\n`) per chunk of at most [`CHUNK`]
//! parameters of one dense layer, in the core's flat layout (`W` row-major `[outputs][inputs]`, then
//! `b`), each parameter as the 8 lowercase hex digits of its `f32` bits — exact, and NaN-safe:
//!
//! ```text
//! {"weights":{"layer":0,"inputs":4,"outputs":8,"offset":0,"count":40,"bits":"3e8a3d71be0f5c29..."}}*1c2b3a4d
//! ```
//!
//! `offset` is the chunk's first parameter within the layer (whose `inputs·outputs + outputs`
//! parameters the frames cover exactly once). A damaged frame fails its CRC and is dropped, so the
//! host can tell that a layer is incomplete rather than read wrong numbers.
//!
//! After the dense layers, each batch norm's four tensors (PyTorch's `state_dict` names), each in
//! chunks the same way; `after_dense` places the layer among the dense ones:
//!
//! ```text
//! {"batch_norm":{"index":0,"features":32,"after_dense":1,"part":"running_var","offset":0,"count":32,"bits":"..."}}*…
//! ```

use tinytrain::layers::batch_norm::STATS_PER_FEATURE;
use tinytrain::spec::Layer;

/// The four tensors of a batch norm in its frames, in order: `γ`, `β` (parameters), then the
/// running mean and variance (statistics).
pub const BATCH_NORM_PARTS: [&str; 4] = ["weight", "bias", "running_mean", "running_var"];

/// Parameters per frame: 64 × 8 hex digits keep a frame's JSON under 640 bytes.
pub const CHUNK: usize = 64;
/// Longest JSON text of a weights frame.
pub const FRAME_CAPACITY: usize = 640;

struct Cursor<'b> {
    bytes: &'b mut [u8; FRAME_CAPACITY],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, text: &[u8]) {
        for &b in text {
            if let Some(slot) = self.bytes.get_mut(self.at) {
                *slot = b;
            }
            self.at += 1;
        }
    }

    fn number(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut len = 0;
        loop {
            if let Some(d) = digits.get_mut(len) {
                *d = b'0' + (n % 10) as u8;
            }
            len += 1;
            n /= 10;
            if n == 0 || len == digits.len() {
                break;
            }
        }
        for i in (0..len).rev() {
            let d = digits.get(i).copied().unwrap_or(b'0');
            self.put(&[d]);
        }
    }

    fn hex(&mut self, word: u32) {
        for i in 0..8 {
            let nibble = (word >> (28 - 4 * i)) & 0xF;
            self.put(&[b"0123456789abcdef"[nibble as usize & 0xF]]);
        }
    }
}

/// Calls `send` with the JSON text of every weights frame of the parameters (a `front` read in
/// place, or empty, then `params`: [`tinytrain::network::layer_params`]) and of the batch-norm
/// statistics `stats` (both laid out by `layers`), in order; the caller adds the trailer
/// ([`frame::trailer`](super::frame::trailer)).
pub fn for_each_frame(
    layers: &[Layer],
    front: &[f32],
    params: &[f32],
    stats: &[f32],
    mut send: impl FnMut(&[u8]),
) {
    let params_of = |range| tinytrain::network::layer_params(front, params, range);
    let mut buffer = [0u8; FRAME_CAPACITY];
    for (k, dense) in tinytrain::spec::dense_layers(layers).enumerate() {
        let (inputs, outputs) = (dense.inputs, dense.outputs);
        let layer_params = params_of(dense.range).unwrap_or(&[]);
        chunked(&mut buffer, layer_params, &mut send, |c| {
            c.put(b"{\"weights\":{\"layer\":");
            c.number(k);
            c.put(b",\"inputs\":");
            c.number(inputs);
            c.put(b",\"outputs\":");
            c.number(outputs);
        });
    }
    let (mut at, mut index, mut dense_before) = ((0, 0), 0, 0);
    for layer in layers {
        match *layer {
            Layer::Dense { .. } => dense_before += 1,
            Layer::BatchNorm { features: n } => {
                let (p, s) = at;
                let tensors = [
                    params_of(p..p + n),
                    params_of(p + n..p + 2 * n),
                    stats.get(s..s + n),
                    stats.get(s + n..s + 2 * n),
                ];
                for (part, values) in BATCH_NORM_PARTS.iter().zip(tensors) {
                    chunked(&mut buffer, values.unwrap_or(&[]), &mut send, |c| {
                        c.put(b"{\"batch_norm\":{\"index\":");
                        c.number(index);
                        c.put(b",\"features\":");
                        c.number(n);
                        c.put(b",\"after_dense\":");
                        c.number(dense_before);
                        c.put(b",\"part\":\"");
                        c.put(part.as_bytes());
                        c.put(b"\"");
                    });
                }
                index += 1;
            }
            _ => {}
        }
        let stats_of = match *layer {
            Layer::BatchNorm { features } => features * STATS_PER_FEATURE,
            _ => 0,
        };
        at = (at.0 + layer.params(), at.1 + stats_of);
    }
}

/// One frame per [`CHUNK`] of `values`: `header`'s fields, then the chunk's ([`Cursor::finish_chunk`]).
fn chunked(
    buffer: &mut [u8; FRAME_CAPACITY],
    values: &[f32],
    send: &mut impl FnMut(&[u8]),
    header: impl Fn(&mut Cursor<'_>),
) {
    for (chunk_index, chunk) in values.chunks(CHUNK).enumerate() {
        let mut c = Cursor {
            bytes: buffer,
            at: 0,
        };
        header(&mut c);
        c.finish_chunk(chunk_index, chunk);
        let end = c.at.min(FRAME_CAPACITY);
        send(buffer.get(..end).unwrap_or(&[]));
    }
}

impl Cursor<'_> {
    /// A chunk's `offset`, `count` and `bits`, and the closing braces.
    fn finish_chunk(&mut self, chunk_index: usize, chunk: &[f32]) {
        self.put(b",\"offset\":");
        self.number(chunk_index * CHUNK);
        self.put(b",\"count\":");
        self.number(chunk.len());
        self.put(b",\"bits\":\"");
        chunk.iter().for_each(|p| self.hex(p.to_bits()));
        self.put(b"\"}}");
    }
}

/// One weights frame, parsed.
#[cfg(feature = "host")]
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// Dense layer index.
    pub layer: usize,
    /// The layer's inputs.
    pub inputs: usize,
    /// The layer's outputs.
    pub outputs: usize,
    /// First parameter of the chunk within the layer (flat layout: `W` row-major, then `b`).
    pub offset: usize,
    /// The parameters.
    pub values: std::vec::Vec<f32>,
}

/// One batch-norm frame, parsed.
#[cfg(feature = "host")]
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormChunk {
    /// Batch-norm index (0 for the first batch norm of the network).
    pub index: usize,
    /// Its features.
    pub features: usize,
    /// Dense layers before it.
    pub after_dense: usize,
    /// Which tensor: an index into [`BATCH_NORM_PARTS`].
    pub part: usize,
    /// First value of the chunk within the tensor.
    pub offset: usize,
    /// The values.
    pub values: std::vec::Vec<f32>,
}

/// The chunk in a weights frame's JSON value (`None`: not a weights frame, or malformed).
#[cfg(feature = "host")]
pub fn parse(value: &serde_json::Value) -> Option<Chunk> {
    let w = value.get("weights")?;
    let field = |name: &str| -> Option<usize> { usize::try_from(w.get(name)?.as_u64()?).ok() };
    Some(Chunk {
        layer: field("layer")?,
        inputs: field("inputs")?,
        outputs: field("outputs")?,
        offset: field("offset")?,
        values: chunk_values(w)?,
    })
}

/// The chunk in a batch-norm frame's JSON value (`None`: not one, or malformed).
#[cfg(feature = "host")]
pub fn parse_batch_norm(value: &serde_json::Value) -> Option<BatchNormChunk> {
    let w = value.get("batch_norm")?;
    let field = |name: &str| -> Option<usize> { usize::try_from(w.get(name)?.as_u64()?).ok() };
    let part = w.get("part")?.as_str()?;
    Some(BatchNormChunk {
        index: field("index")?,
        features: field("features")?,
        after_dense: field("after_dense")?,
        part: BATCH_NORM_PARTS.iter().position(|p| *p == part)?,
        offset: field("offset")?,
        values: chunk_values(w)?,
    })
}

/// A chunk's `bits` as values, checked against its `count`.
#[cfg(feature = "host")]
fn chunk_values(w: &serde_json::Value) -> Option<std::vec::Vec<f32>> {
    let hex = w.get("bits")?.as_str()?;
    if hex.len() % 8 != 0 || !hex.is_ascii() {
        return None;
    }
    let values = (0..hex.len() / 8)
        .map(|i| {
            u32::from_str_radix(&hex[8 * i..8 * i + 8], 16)
                .ok()
                .map(f32::from_bits)
        })
        .collect::<Option<std::vec::Vec<f32>>>()?;
    let count = usize::try_from(w.get("count")?.as_u64()?).ok()?;
    (count == values.len()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cover_every_parameter_once() {
        let layers = [Layer::dense(4, 20), Layer::dense(20, 3)];
        let params: Vec<f32> = (0..163).map(|i| i as f32 * 0.5 - 7.0).collect();
        let mut frames = Vec::new();
        for_each_frame(&layers, &[], &params, &[], |json| {
            frames.push(String::from_utf8(json.to_vec()).unwrap())
        });
        // Layer 0: 100 parameters (2 frames), layer 1: 63 (1 frame).
        assert_eq!(frames.len(), 3);
        assert!(frames.iter().all(|f| f.len() <= FRAME_CAPACITY));
        let value: serde_json::Value = serde_json::from_str(&frames[1]).unwrap();
        assert_eq!(value["weights"]["offset"], 64);
        assert_eq!(value["weights"]["count"], 36);
        let bits = value["weights"]["bits"].as_str().unwrap();
        assert_eq!(&bits[..8], format!("{:08x}", params[64].to_bits()));
    }
}
