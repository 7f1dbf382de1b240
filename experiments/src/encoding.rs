//! How a table stores its values: the narrowest encoding that gives every value back bit for bit.
//!
//! Shared by the crate's [`Table`](crate::table::Table), `build.rs` (which includes this file to
//! encode the bundled CSVs) and `tinytrain train --device` (which encodes a user's CSV).

/// How one feature value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// An integer in `0..=255`.
    U8,
    /// An integer in `-32768..=32767`.
    I16,
    /// Any `f32`, little-endian.
    F32,
}

impl Encoding {
    /// Bytes per value.
    pub const fn width(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::I16 => 2,
            Encoding::F32 => 4,
        }
    }

    /// The narrowest encoding that gives back every one of `values` bit for bit (so `-0.0` and
    /// `0.5` need `F32`).
    pub fn narrowest(values: impl Iterator<Item = f32> + Clone) -> Self {
        let exact = |decode: fn(f32) -> Option<f32>| {
            values
                .clone()
                .all(|v| decode(v).is_some_and(|back| back.to_bits() == v.to_bits()))
        };
        if exact(|v| (0.0..=255.0).contains(&v).then(|| f32::from(v as u8))) {
            Encoding::U8
        } else if exact(|v| {
            (-32768.0..=32767.0)
                .contains(&v)
                .then(|| f32::from(v as i16))
        }) {
            Encoding::I16
        } else {
            Encoding::F32
        }
    }

    /// Writes `value` into `out` (`width()` bytes). The caller has chosen an encoding that holds
    /// it ([`Encoding::narrowest`]).
    pub fn encode(self, value: f32, out: &mut [u8]) {
        match self {
            Encoding::U8 => out[..1].copy_from_slice(&[value as u8]),
            Encoding::I16 => out[..2].copy_from_slice(&(value as i16).to_le_bytes()),
            Encoding::F32 => out[..4].copy_from_slice(&value.to_le_bytes()),
        }
    }

    /// The values `bytes` hold, into `out` (as many as both have room for). The encoding is
    /// matched once per row, not once per value: this is the loading of every training sample.
    pub fn decode_all(self, bytes: &[u8], out: &mut [f32]) {
        match self {
            Encoding::U8 => out
                .iter_mut()
                .zip(bytes)
                .for_each(|(o, &b)| *o = f32::from(b)),
            Encoding::I16 => out
                .iter_mut()
                .zip(bytes.as_chunks::<2>().0)
                .for_each(|(o, &b)| *o = f32::from(i16::from_le_bytes(b))),
            Encoding::F32 => out
                .iter_mut()
                .zip(bytes.as_chunks::<4>().0)
                .for_each(|(o, &b)| *o = f32::from_le_bytes(b)),
        }
    }

    /// The value `bytes` (`width()` long) hold (NaN if they are too few).
    pub fn decode(self, bytes: &[u8]) -> f32 {
        let mut value = [f32::NAN];
        self.decode_all(bytes, &mut value);
        value[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_narrowest_encoding_gives_every_value_back() {
        let cases: [(&[f32], Encoding); 7] = [
            (&[0.0, 16.0, 255.0], Encoding::U8),
            (&[0.0, 256.0], Encoding::I16),
            (&[-1.0, 3.0], Encoding::I16),
            (&[-32768.0, 32767.0], Encoding::I16),
            (&[40000.0], Encoding::F32),
            (&[1.0, 0.5], Encoding::F32),
            // -0.0 == 0.0, but its sign bit would be lost in an integer.
            (&[-0.0], Encoding::F32),
        ];
        for (values, expected) in cases {
            let encoding = Encoding::narrowest(values.iter().copied());
            assert_eq!(encoding, expected, "{values:?}");
            for &v in values {
                let mut bytes = [0u8; 4];
                encoding.encode(v, &mut bytes);
                assert_eq!(encoding.decode(&bytes).to_bits(), v.to_bits(), "{v}");
            }
        }
    }
}
