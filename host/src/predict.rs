//! `tinytrain predict RUN_DIR --data new.csv [--out predictions.csv]`: a finished run's network on
//! new rows.
//!
//! Every number comes from the core, as in training: the rows are standardised with the run's
//! frozen statistics ([`Standardized`]), the network runs its own forward pass in eval mode
//! (dropout the identity, each batch norm with its running statistics), and when the file has the label column the metrics come from
//! [`Trainer::evaluate`], the pass that measured the run's `val_*` fields. So predicting a run's
//! validation rows gives its last `val_acc`, `val_f1`, `val_loss` (or `val_mae`, `val_rmse`) bit
//! for bit.
//!
//! The output is CSV, one row per data row: `predicted` (the class name as the run read it, or the
//! value in the target's units), then for classification one probability column per class,
//! `p_<class>` (softmax of the outputs; for the binary head `1 − σ(z)` and `σ(z)`), and with
//! `--logits` the raw outputs, `logit_<class>` (or `output` for regression), as shortest decimals
//! that read back as the same `f32`. An autoencoder's run (`--task autoencoder`) writes each row's
//! reconstruction error and anomaly flag instead ([`crate::anomaly::predict`]).

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use tinytrain::data::{Dataset, SliceDataset};
use tinytrain::layers::activation::sigmoid;
use tinytrain::loss::Head;
use tinytrain::network::Mode;
use tinytrain::normalize::Standardized;
use tinytrain::train::{Summary, Trainer};

use crate::csv_data::{self, Delimiter, Inputs, Task};
use crate::memory::VecMemory;
use crate::model::Model;
use crate::run_dir::write_atomic;
use crate::targets;
use crate::MAX_CLASSES;

/// The options of `tinytrain predict`.
#[derive(Args, Debug, Clone)]
pub struct PredictArgs {
    /// A finished run directory (its manifest.json and weights.json)
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// The rows to predict: a CSV file with the run's feature columns (by name, in any order) and,
    /// if it has the run's label column, metrics on stderr
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Write the predictions to this CSV file (atomically) instead of stdout
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Replace --out FILE if it exists
    #[arg(long)]
    pub force: bool,
    /// Also write the network's raw outputs (logit_<class> columns; output for regression)
    #[arg(long)]
    pub logits: bool,
    /// Cell separator of the CSV file [default: the run's]
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<Delimiter>,
    /// Columns to leave out besides the run's own --ignore, by name, comma-separated
    #[arg(long, value_name = "COLUMN,...", value_delimiter = ',')]
    pub ignore: Vec<String>,
}

/// The network's outputs for every row, and the metrics when the rows have labels.
#[derive(Clone, Debug)]
pub struct Predictions {
    /// Outputs per row.
    pub width: usize,
    /// `rows × width` raw outputs (logits, or the standardised regression output), row-major.
    pub outputs: Vec<f32>,
    /// The core's metrics over every row (`None`: the file has no label column).
    pub summary: Option<Summary<MAX_CLASSES>>,
}

impl Predictions {
    /// The outputs of row `row`.
    pub fn row(&self, row: usize) -> &[f32] {
        &self.outputs[row * self.width..(row + 1) * self.width]
    }
}

/// Runs `tinytrain predict`.
pub fn execute(args: &PredictArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        crate::run_dir::check_output_file(out, args.force)?;
    }
    let model = Model::load(&args.run)?;
    let inputs = read_inputs(&model, &args.data, args.delimiter, &args.ignore)?;
    let (csv, metrics) = if model.spec.autoencoder.is_some() {
        if args.logits {
            bail!("--logits: an autoencoder's outputs are its reconstruction; predict writes each row's error and anomaly flag");
        }
        crate::anomaly::predict(&model, &inputs)?
    } else {
        let predictions = predict(&model, &inputs)?;
        let csv = to_csv(&model, &predictions, args.logits)?;
        let line = predictions
            .summary
            .as_ref()
            .map(|summary| metrics_line(&model, &inputs, &predictions, summary));
        (csv, line)
    };
    match &args.out {
        Some(out) => write_atomic(out, &csv)?,
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&csv)
                .and_then(|()| stdout.flush())
                .context("cannot write the predictions to stdout")?;
        }
    }
    if let Some(line) = metrics {
        eprintln!("{line}");
    }
    if let Some(out) = &args.out {
        eprintln!("wrote {} predictions to {}", inputs.rows(), out.display());
    }
    Ok(())
}

/// Reads `data` with the run's columns (and its delimiter unless `delimiter` is given).
pub fn read_inputs(
    model: &Model,
    data: &std::path::Path,
    delimiter: Option<Delimiter>,
    ignore: &[String],
) -> anyhow::Result<Inputs> {
    let ignore = model.ignored(ignore);
    let mut schema = model.schema(&ignore);
    if let Some(delimiter) = delimiter {
        schema.delimiter = delimiter;
    }
    Ok(csv_data::read_for(data, &schema)?)
}

/// The core's forward pass in eval mode over every row of `inputs`, standardised with the run's
/// statistics; with labels, [`Trainer::evaluate`] over the same rows.
pub fn predict(model: &Model, inputs: &Inputs) -> anyhow::Result<Predictions> {
    // Sized as the run's (a network with batch norm holds its mini-batch: the trainer insists),
    // though eval mode runs one row at a time with the running statistics.
    let mut memory = VecMemory::try_for_run(&model.plan, &model.train_config, 0)?;
    let mut trainer = Trainer::<MAX_CLASSES>::new(
        &model.layers,
        memory.buffers(),
        model.train_config,
        model.head,
        model.spec.seed,
    )
    .map_err(|e| anyhow!("cannot build the network: {e}"))?;
    model.weights.load_into(trainer.net_mut())?;
    let features = model.feature_standardizer();
    let target = model.target_standardizer();

    // Rows without labels still load through the core's dataset; their targets are never read.
    let none = vec![0u16; inputs.rows()];
    let unlabelled = SliceDataset::classification(&inputs.features, inputs.width, &none);
    let raw = inputs.dataset().unwrap_or(unlabelled);
    let data = Standardized::new(&raw, features.as_deref(), target.as_ref());

    let width = model.plan.outputs;
    let mut outputs = Vec::with_capacity(inputs.rows() * width);
    let net = trainer.net_mut();
    net.set_mode(Mode::Eval);
    for row in 0..data.len() {
        data.load(row, net.input_mut());
        outputs.extend_from_slice(net.forward());
    }
    let summary = inputs.targets.as_ref().map(|_| {
        let rows: Vec<u32> = (0..inputs.rows() as u32).collect();
        trainer.evaluate(&data, &rows).clone()
    });
    Ok(Predictions {
        width,
        outputs,
        summary,
    })
}

/// Class probabilities from a classification head's outputs: softmax (shifted by the largest
/// output, so nothing overflows), or for the one-output sigmoid head `[1 − σ(z), σ(z)]`.
pub fn probabilities(head: Head, out: &[f32]) -> Vec<f32> {
    match head {
        Head::SigmoidBinaryCrossEntropy => {
            let p = sigmoid(out.first().copied().unwrap_or(0.0));
            vec![1.0 - p, p]
        }
        _ => {
            let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f32> = out.iter().map(|&z| (z - max).exp()).collect();
            let sum: f32 = exps.iter().sum();
            exps.iter().map(|e| e / sum).collect()
        }
    }
}

/// The predictions as CSV text (see the module documentation for the columns).
pub fn to_csv(model: &Model, predictions: &Predictions, logits: bool) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["predicted".to_string()];
    let classification = model.task == Task::Classification;
    if classification {
        header.extend(model.class_names.iter().map(|c| format!("p_{c}")));
        if logits {
            match model.head {
                Head::SigmoidBinaryCrossEntropy => header.push("logit".into()),
                _ => header.extend(model.class_names.iter().map(|c| format!("logit_{c}"))),
            }
        }
    } else if let [_, _, ..] = model.target_names() {
        // Several targets (`--targets`): a column each.
        let names = model.target_names();
        header = names.iter().map(|n| format!("predicted_{n}")).collect();
        if logits {
            header.extend(names.iter().map(|n| format!("output_{n}")));
        }
    } else if logits {
        header.push("output".into());
    }
    writer.write_record(&header)?;
    let rows = predictions.outputs.len() / predictions.width.max(1);
    for row in 0..rows {
        let out = predictions.row(row);
        let mut cells = Vec::with_capacity(header.len());
        if classification {
            let class = model.head.predict_class(out).map_or(0, usize::from);
            cells.push(model.class_names.get(class).cloned().unwrap_or_default());
            cells.extend(probabilities(model.head, out).iter().map(f32::to_string));
        } else if out.len() > 1 {
            let target = model.target_standardizer();
            cells.extend(
                (0..out.len()).map(|j| targets::to_units(target.as_ref(), j, out[j]).to_string()),
            );
        } else {
            cells.push(model.to_target_units(out[0]).to_string());
        }
        if logits {
            cells.extend(out.iter().map(f32::to_string));
        }
        writer.write_record(&cells)?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow!("cannot write the predictions: {e}"))
}

/// E.g. `new.csv: 30 rows: accuracy 0.96666664 (96.67%), macro F1 0.9665831, loss 0.0871`: the
/// core's metrics as shortest decimals that read back as the same `f32`.
/// A `--targets` run adds each target's errors in its units ([`crate::targets`]).
pub fn metrics_line(
    model: &Model,
    inputs: &Inputs,
    predictions: &Predictions,
    summary: &Summary<MAX_CLASSES>,
) -> String {
    let what = format!("{}: {} rows", inputs.path.display(), inputs.rows());
    let loss = summary.loss.mean();
    match model.task {
        Task::Classification => {
            let accuracy = summary.confusion.accuracy();
            format!(
                "{what}: accuracy {accuracy} ({:.2}%), macro F1 {}, loss {loss}",
                accuracy * 100.0,
                summary.confusion.macro_f1()
            )
        }
        Task::Regression if predictions.width > 1 => {
            let truth = match &inputs.targets {
                Some(csv_data::Targets::Values(values)) => &values[..],
                _ => &[],
            };
            let target = model.target_standardizer();
            let each = targets::errors(
                "data",
                model.target_names(),
                &predictions.outputs,
                truth,
                target.as_ref(),
            );
            format!(
                "{what}: MAE {}, RMSE {} (over {} targets, in standard deviations), loss {loss}\n{each}",
                summary.regression.mae(),
                summary.regression.rmse(),
                predictions.width
            )
        }
        Task::Regression => format!(
            "{what}: MAE {}, RMSE {} (in the target's units), loss {loss}",
            summary.regression.mae(),
            summary.regression.rmse()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_and_follow_the_head() {
        let p = probabilities(Head::SoftmaxCrossEntropy, &[1000.0, 1000.0, -5.0]);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] < 1e-6);
        let p = probabilities(Head::SigmoidBinaryCrossEntropy, &[0.0]);
        assert_eq!(p, [0.5, 0.5]);
        let p = probabilities(Head::SigmoidBinaryCrossEntropy, &[3.0]);
        assert_eq!(p[1], sigmoid(3.0));
        assert_eq!(p[0], 1.0 - sigmoid(3.0));
    }
}
