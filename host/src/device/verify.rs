//! `device ≡ host`: every epoch of the device's run against the host's, field by field, bit for
//! bit.

use std::fmt;

use tinytrain::record::EpochRecord;

/// The first difference between two runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Difference {
    /// Epoch `epoch`'s `field` differs (`None`: absent).
    Field {
        /// The epoch.
        epoch: u32,
        /// The field's name ([`EpochRecord::FLOAT_NAMES`]).
        field: &'static str,
        /// The device's value.
        device: Option<f32>,
        /// The host's value.
        host: Option<f32>,
    },
    /// The runs have different numbers of epochs.
    Epochs {
        /// The device's.
        device: usize,
        /// The host's.
        host: usize,
    },
}

/// The comparison of a device's run with the host's.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Epochs that are bit-identical, from the first on.
    pub identical_epochs: usize,
    /// Epochs of the host's run.
    pub epochs: usize,
    /// The first difference (`None`: identical).
    pub difference: Option<Difference>,
}

impl Verdict {
    /// Every epoch bit-identical, and as many.
    pub fn identical(&self) -> bool {
        self.difference.is_none()
    }
}

/// Compares `device` with `host`, epoch by epoch in order.
///
/// ```
/// use tinytrain::record::EpochRecord;
/// use tinytrain_host::device::verify::compare;
/// let a = EpochRecord { epoch: 1, train_loss: 0.5, ..EpochRecord::default() };
/// let b = EpochRecord { train_loss: f32::from_bits(0.5f32.to_bits() + 1), ..a };
/// assert_eq!(compare(&[a], &[a]).to_string(), "device ≡ host: 1/1 epochs bit-identical");
/// assert_eq!(
///     compare(&[b], &[a]).to_string(),
///     "device ≢ host: epoch 1 differs first, in train_loss: device 0.50000006 (0x3f000001), host 0.5 (0x3f000000); 0/1 epochs bit-identical"
/// );
/// ```
pub fn compare(device: &[EpochRecord], host: &[EpochRecord]) -> Verdict {
    let bits = |v: Option<f32>| v.map(f32::to_bits);
    let mut identical_epochs = 0;
    let mut difference = None;
    for (d, h) in device.iter().zip(host) {
        let fields = EpochRecord::FLOAT_NAMES
            .iter()
            .zip(d.floats().into_iter().zip(h.floats()));
        let first = fields
            .into_iter()
            .find(|(_, (a, b))| bits(*a) != bits(*b) || d.epoch != h.epoch);
        if let Some((&field, (device, host))) = first {
            difference = Some(Difference::Field {
                epoch: h.epoch,
                field,
                device,
                host,
            });
            break;
        }
        identical_epochs += 1;
    }
    if difference.is_none() && device.len() != host.len() {
        difference = Some(Difference::Epochs {
            device: device.len(),
            host: host.len(),
        });
    }
    Verdict {
        identical_epochs,
        epochs: host.len(),
        difference,
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = |v: Option<f32>| {
            v.map_or_else(
                || "absent".into(),
                |v| format!("{v} ({:#010x})", v.to_bits()),
            )
        };
        match &self.difference {
            None => write!(
                f,
                "device ≡ host: {}/{} epochs bit-identical",
                self.identical_epochs, self.epochs
            ),
            Some(Difference::Field {
                epoch,
                field,
                device,
                host,
            }) => write!(
                f,
                "device ≢ host: epoch {epoch} differs first, in {field}: device {}, host {}; {}/{} epochs bit-identical",
                value(*device),
                value(*host),
                self.identical_epochs,
                self.epochs
            ),
            Some(Difference::Epochs { device, host }) => write!(
                f,
                "device ≢ host: the device ran {device} epochs, the host {host}; the first {} are bit-identical",
                self.identical_epochs
            ),
        }
    }
}
