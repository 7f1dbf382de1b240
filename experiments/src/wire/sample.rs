//! The stream's frames, host → device: labelled samples for a device that learns as they arrive
//! (`tinytrain train --device … --stream`; the firmware's `stream` program).
//!
//! ```text
//! {"x":[5.1,3.5,1.4,0.2],"class":0}*crc\n     a sample of a classification (class index)
//! {"x":[0.61,-1.2],"y":0.25}*crc\n            a sample of a one-output regression
//! {"x":[0.61,-1.2]}*crc\n                     a sample with no target: an autoencoder learns it
//! {"x":[...],"score":true,"anomaly":false}*crc\n   score it, learn nothing (the truth optional)
//! {"threshold":0.95}*crc\n                    the anomaly threshold: that quantile of the errors
//!                                            scored so far; later scores are flagged against it
//! {"epoch_end":true}*crc\n                    close the stream's epoch: the device reports it
//! {"end":true}*crc\n                          the stream is over: summary, weights, exit
//! ```
//!
//! Sealed as every serial frame ([`frame`](super::frame)). The features are the raw values of the
//! CSV, as `f32` in shortest round-trip digits: the device parses them back to the same bits
//! (serde-json-core parses with `f32::from_str`, which rounds correctly) and standardises them
//! with the shipped model's statistics. A bare `null` is NaN. Bytes between frames (a handshake
//! byte, line noise) are skipped: a frame starts at `{`. The device says when it listens: the
//! [`READY`] frame, the other way.

use tinytrain::data::Target;

use crate::run::MAX_FEATURES;

/// The JSON of the frame the stream program sends once its receiver is on: the host sends
/// nothing before it, since a UART drops what arrives before its receiver is enabled (a board
/// still starting, QEMU's STM32 USART).
pub const READY: &str = r#"{"ready":"stream"}"#;

/// Longest sample frame, trailer included: [`MAX_FEATURES`] values of at most 15 characters
/// (`-1.17549435e-38`) and a comma each, the keys and the trailer.
pub const SAMPLE_CAPACITY: usize = MAX_FEATURES * 16 + 64;

/// What a stream frame says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Message<'a> {
    /// A sample to learn: its raw features and its target.
    Sample {
        /// The raw (unstandardised) features.
        x: &'a [f32],
        /// The class index, or the regression value (raw).
        target: Target,
    },
    /// A sample without a target: an autoencoder learns to reconstruct it.
    Features {
        /// The raw features.
        x: &'a [f32],
    },
    /// A sample to score (an autoencoder's reconstruction error), not to learn.
    Score {
        /// The raw features.
        x: &'a [f32],
        /// Whether it is an anomaly, if the sender knows: the device counts its flag's hits.
        anomaly: Option<bool>,
    },
    /// Set the anomaly threshold to this quantile of the errors scored so far.
    Threshold {
        /// The quantile, in `[0, 1]`.
        quantile: f32,
    },
    /// The end of the stream's epoch.
    EpochEnd,
    /// The end of the stream.
    End,
}

/// Why a stream frame was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleError {
    /// The JSON text is not a stream frame (or has more than [`MAX_FEATURES`] values).
    Json,
    /// A sample has both `class` and `y`.
    Target,
}

impl SampleError {
    /// A human-readable description.
    pub const fn message(&self) -> &'static str {
        match self {
            SampleError::Json => "not a stream frame (or more features than the device holds)",
            SampleError::Target => "a sample has at most one of `class` and `y`",
        }
    }
}

/// A parsed stream frame: the features stay in it, [`Frame::message`] borrows them.
#[derive(Clone, Debug)]
pub struct Frame {
    x: Values,
    class: Option<u16>,
    y: Option<f32>,
    score: bool,
    anomaly: Option<bool>,
    threshold: Option<f32>,
    epoch_end: bool,
    end: bool,
}

impl Frame {
    /// Parses a frame's JSON text (its CRC already checked by [`frame::open`](super::frame::open)).
    #[cfg(feature = "serde")]
    pub fn parse(json: &[u8]) -> Result<Self, SampleError> {
        let (wire, _) = serde_json_core::from_slice::<Wire>(json).map_err(|_| SampleError::Json)?;
        let frame = Frame {
            x: wire.x,
            class: wire.class,
            y: wire.y,
            score: wire.score,
            anomaly: wire.anomaly,
            threshold: wire.threshold,
            epoch_end: wire.epoch_end,
            end: wire.end,
        };
        frame.message()?;
        Ok(frame)
    }

    /// What the frame says.
    pub fn message(&self) -> Result<Message<'_>, SampleError> {
        if self.end {
            return Ok(Message::End);
        }
        if self.epoch_end {
            return Ok(Message::EpochEnd);
        }
        if let Some(quantile) = self.threshold {
            return Ok(Message::Threshold { quantile });
        }
        let x = self.x.as_slice();
        if self.score {
            return Ok(Message::Score {
                x,
                anomaly: self.anomaly,
            });
        }
        let target = match (self.class, self.y) {
            (Some(class), None) => Target::Class(class),
            (None, Some(y)) => Target::Value(y),
            (None, None) => return Ok(Message::Features { x }),
            (Some(_), Some(_)) => return Err(SampleError::Target),
        };
        Ok(Message::Sample {
            x: self.x.as_slice(),
            target,
        })
    }
}

/// The frame's JSON shape (every key optional).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct Wire {
    #[serde(default)]
    x: Values,
    #[serde(default)]
    class: Option<u16>,
    #[serde(default)]
    y: Option<f32>,
    #[serde(default)]
    score: bool,
    #[serde(default)]
    anomaly: Option<bool>,
    #[serde(default)]
    threshold: Option<f32>,
    #[serde(default)]
    epoch_end: bool,
    #[serde(default)]
    end: bool,
}

/// Up to [`MAX_FEATURES`] floats, deserialised from a JSON array without allocating.
#[derive(Clone, Debug)]
struct Values {
    values: [f32; MAX_FEATURES],
    len: usize,
}

impl Default for Values {
    fn default() -> Self {
        Self {
            values: [0.0; MAX_FEATURES],
            len: 0,
        }
    }
}

impl Values {
    fn as_slice(&self) -> &[f32] {
        self.values.get(..self.len).unwrap_or(&[])
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Values;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("an array of at most MAX_FEATURES numbers")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Values, A::Error> {
                let mut out = Values::default();
                while let Some(v) = seq.next_element::<f32>()? {
                    let Some(slot) = out.values.get_mut(out.len) else {
                        return Err(serde::de::Error::invalid_length(out.len + 1, &self));
                    };
                    *slot = v;
                    out.len += 1;
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

/// The sealed frame of `message` (JSON, `*crc`, `\n`), as the host sends it.
#[cfg(feature = "host")]
pub fn encode(message: &Message<'_>) -> Vec<u8> {
    /// The sample's JSON: serde_json writes an `f32` in its own shortest digits (not an `f64`'s),
    /// and NaN as `null`.
    #[derive(serde::Serialize)]
    struct Sample<'a> {
        x: &'a [f32],
        #[serde(skip_serializing_if = "Option::is_none")]
        class: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        y: Option<f32>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        score: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        anomaly: Option<bool>,
    }
    let json = match *message {
        Message::Sample { x, target } => {
            let (class, y) = match target {
                Target::Class(class) => (Some(class), None),
                Target::Value(y) => (None, Some(y)),
            };
            serde_json::to_vec(&Sample {
                x,
                class,
                y,
                score: false,
                anomaly: None,
            })
        }
        Message::Features { x } => serde_json::to_vec(&Sample {
            x,
            class: None,
            y: None,
            score: false,
            anomaly: None,
        }),
        Message::Score { x, anomaly } => serde_json::to_vec(&Sample {
            x,
            class: None,
            y: None,
            score: true,
            anomaly,
        }),
        Message::Threshold { quantile } => {
            serde_json::to_vec(&serde_json::json!({ "threshold": quantile }))
        }
        Message::EpochEnd => serde_json::to_vec(&serde_json::json!({ "epoch_end": true })),
        Message::End => serde_json::to_vec(&serde_json::json!({ "end": true })),
    };
    let mut json = json.unwrap_or_default();
    let trailer = super::frame::trailer(&json);
    json.extend_from_slice(&trailer);
    json
}

#[cfg(all(test, feature = "host"))]
mod tests {
    use super::*;
    use crate::frame;

    fn round_trip(message: Message<'_>) -> Frame {
        let line = encode(&message);
        let text = std::str::from_utf8(&line).unwrap();
        let json = frame::open(text).unwrap();
        Frame::parse(json.as_bytes()).unwrap()
    }

    /// Every float comes back with its bits: awkward values, subnormals, the extremes, NaN.
    #[test]
    fn samples_round_trip_bit_for_bit() {
        let x = [
            5.1f32,
            -0.0,
            0.1,
            1.0 / 3.0,
            f32::MIN_POSITIVE,
            1e-45,
            f32::MAX,
            -f32::MAX,
            16_777_217.0,
            f32::NAN,
        ];
        let frame = round_trip(Message::Sample {
            x: &x,
            target: Target::Class(7),
        });
        let Ok(Message::Sample { x: back, target }) = frame.message() else {
            panic!("not a sample");
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back[..9]), bits(&x[..9]));
        assert!(back[9].is_nan());
        assert_eq!(target, Target::Class(7));
        let frame = round_trip(Message::Sample {
            x: &[0.25],
            target: Target::Value(-3.7),
        });
        assert_eq!(
            frame.message(),
            Ok(Message::Sample {
                x: &[0.25],
                target: Target::Value(-3.7)
            })
        );
        let x = [0.5f32, -2.0];
        for anomaly in [None, Some(true), Some(false)] {
            let message = Message::Score { x: &x, anomaly };
            assert_eq!(round_trip(message).message(), Ok(message));
        }
        let message = Message::Features { x: &x };
        assert_eq!(round_trip(message).message(), Ok(message));
        let message = Message::Threshold { quantile: 0.95 };
        assert_eq!(round_trip(message).message(), Ok(message));
        assert_eq!(
            round_trip(Message::EpochEnd).message(),
            Ok(Message::EpochEnd)
        );
        assert_eq!(round_trip(Message::End).message(), Ok(Message::End));
    }

    #[test]
    fn the_widest_sample_fits_and_bad_frames_are_refused() {
        let x = [-1.175_494_4e-38f32; MAX_FEATURES];
        let line = encode(&Message::Sample {
            x: &x,
            target: Target::Class(9),
        });
        assert!(line.len() <= SAMPLE_CAPACITY, "{} bytes", line.len());
        let too_many = format!(
            "{{\"x\":[{}],\"class\":0}}",
            vec!["1"; MAX_FEATURES + 1].join(",")
        );
        assert_eq!(
            Frame::parse(too_many.as_bytes()).err(),
            Some(SampleError::Json)
        );
        assert_eq!(
            Frame::parse(br#"{"x":[1,2],"class":0,"y":1}"#).err(),
            Some(SampleError::Target)
        );
        assert_eq!(
            Frame::parse(br#"{"x":[1,2]}"#).unwrap().message(),
            Ok(Message::Features { x: &[1.0, 2.0] })
        );
        assert_eq!(Frame::parse(b"{\"x\":[1,").err(), Some(SampleError::Json));
    }
}
