//! The one record a training run produces per epoch, on every channel (host files, defmt, serial).

/// Metrics of one epoch. Accuracies are fractions in `[0, 1]`.
///
/// `train_loss` is the mean per-sample loss accumulated *during* the epoch's training pass (before each
/// update, dropout active: PyTorch's usual `running_loss / n`). `val_*` are computed in eval mode after
/// the epoch's last update. Classification fills `train_acc`, `val_acc` and `val_f1` (macro F1);
/// regression fills `train_mae`, `val_mae` and `val_rmse` (in the target's original units).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: u32,
    /// Mean training loss of the epoch.
    pub train_loss: f32,
    /// Training accuracy (classification).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub train_acc: Option<f32>,
    /// Mean validation loss (`None` without validation data).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_loss: Option<f32>,
    /// Validation accuracy (classification).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_acc: Option<f32>,
    /// Learning rate used during the epoch.
    pub lr: f32,
    /// Validation macro F1 (classification).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_f1: Option<f32>,
    /// Training mean absolute error (regression).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub train_mae: Option<f32>,
    /// Validation mean absolute error (regression).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_mae: Option<f32>,
    /// Validation root mean squared error (regression).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_rmse: Option<f32>,
}

impl EpochRecord {
    /// The human-readable line, e.g.
    /// `Epoch 3/30 | Train Loss: 0.2713 | Train Acc: 92.41% | Val Loss: 0.2480 | Val Acc: 93.06%`
    /// (regression shows MAE instead of accuracy).
    ///
    /// ```
    /// use tinytrain::record::EpochRecord;
    /// let r = EpochRecord { epoch: 3, train_loss: 0.27131, train_acc: Some(0.92412), val_loss: Some(0.248),
    ///                       val_acc: Some(0.930_56), ..Default::default() };
    /// assert_eq!(r.line(30).to_string(),
    ///            "Epoch 3/30 | Train Loss: 0.2713 | Train Acc: 92.41% | Val Loss: 0.2480 | Val Acc: 93.06%");
    /// ```
    pub fn line(&self, epochs: u32) -> impl core::fmt::Display + '_ {
        Line {
            record: self,
            epochs,
        }
    }
}

struct Line<'a> {
    record: &'a EpochRecord,
    epochs: u32,
}

impl core::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let r = self.record;
        write!(
            f,
            "Epoch {}/{} | Train Loss: {:.4}",
            r.epoch, self.epochs, r.train_loss
        )?;
        if let Some(acc) = r.train_acc {
            write!(f, " | Train Acc: {:.2}%", acc * 100.0)?;
        }
        if let Some(mae) = r.train_mae {
            write!(f, " | Train MAE: {mae:.4}")?;
        }
        if let Some(loss) = r.val_loss {
            write!(f, " | Val Loss: {loss:.4}")?;
        }
        if let Some(acc) = r.val_acc {
            write!(f, " | Val Acc: {:.2}%", acc * 100.0)?;
        }
        if let Some(mae) = r.val_mae {
            write!(f, " | Val MAE: {mae:.4}")?;
        }
        Ok(())
    }
}
