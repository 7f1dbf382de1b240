//! One training run, from a [`TrainSpec`] to trained weights, one epoch record at a time.
//!
//! `tinytrain train` and `tinytrain accuracy` both run exactly this; they differ only in their
//! [`Observer`] (files and a progress bar, or nothing). Every computation is the core's: this module
//! only decides the head, builds the layer list, allocates the memory and wires the pieces together.
//!
//! 1. [`load_table`]: find and read the CSV file.
//! 2. [`prepare`]: choose the head, build the layers, split the rows (stratified by class, or by
//!    target value for regression) and fit the standardisers on the training rows only.
//! 3. [`train`]: build the trainer (or load `--init` weights), then run the epochs, each record read
//!    by the core's curve [`Analyzer`](tinytrain::diagnose::Analyzer) (events) and, when configured, by [`EarlyStopping`].

use anyhow::{anyhow, bail, Context};
use tinytrain::data::{split, Reconstruct};
use tinytrain::diagnose::Event;
use tinytrain::early_stop::{self, EarlyStopping};
use tinytrain::loss::Head;
use tinytrain::monitor::Monitor;
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::record::EpochRecord;
use tinytrain::spec::{Layer, Plan};
use tinytrain::train::{DivergencePolicy, DivergenceStats, TrainConfig, Trainer};
use tinytrain_experiments::driver::{self, Driver};

use crate::csv_data::{self, Problem, Table, Targets, Task};
use crate::memory::VecMemory;
use crate::options::{defaults, LrSchedule, Normalize, TrainSpec};
use crate::weights::Weights;
use crate::{MAX_CLASSES, MAX_FEATURES, MAX_TARGETS};

/// What a caller sees of a run while it trains. Every method has a do-nothing default.
pub trait Observer {
    /// Once, after the parameters are initialised (or loaded from `--init`) and before the first epoch.
    fn start(&mut self, _setup: &Setup<'_>, _initial: &Weights) -> anyhow::Result<()> {
        Ok(())
    }

    /// During epoch `epoch` (1-based): `done` training rows processed so far.
    fn progress(&mut self, _epoch: u32, _done: usize) {}

    /// After each epoch, with its record.
    fn epoch(&mut self, _record: &EpochRecord) -> anyhow::Result<()> {
        Ok(())
    }

    /// When the curve analyser notices something (right after the `epoch` call that revealed it).
    fn event(&mut self, _noticed: &Noticed) -> anyhow::Result<()> {
        Ok(())
    }

    /// Once after the last epoch, with early stopping configured: what it did.
    fn early_stop(&mut self, _outcome: &early_stop::Outcome) -> anyhow::Result<()> {
        Ok(())
    }

    /// `true` if the observer wants a checkpoint after every epoch ([`Observer::checkpoint`]).
    fn wants_checkpoints(&self) -> bool {
        false
    }

    /// After each epoch (after [`Observer::epoch`] and its events), when
    /// [`Observer::wants_checkpoints`]: the trainer's checkpoint ([`tinytrain::checkpoint`]).
    fn checkpoint(&mut self, _epoch: u32, _bytes: &[u8]) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Where a resumed run starts: a checkpoint and the records of the epochs it covers.
#[derive(Clone, Debug)]
pub struct Resume {
    /// The checkpoint's bytes (`checkpoint.bin`).
    pub checkpoint: Vec<u8>,
    /// The records of epochs `1..=checkpoint epoch`, as `metrics.jsonl` holds them.
    pub records: Vec<EpochRecord>,
}

/// The floats a checkpoint carries besides the trainer's state: its [`binding`] (four 16-bit
/// pieces, exact as floats), then the normaliser's statistics (feature means and scales, then the
/// regression target's mean and scale), so that resuming another configuration or changed data is
/// caught.
pub fn checkpoint_extra(setup: &Setup<'_>) -> Vec<f32> {
    let binding = binding(setup);
    let mut extra: Vec<f32> = (0..4)
        .map(|k| f32::from((binding >> (16 * k)) as u16))
        .collect();
    if let Some(features) = &setup.features {
        extra.extend_from_slice(features.mean());
        extra.extend_from_slice(features.scale());
    }
    if let Some(target) = &setup.target {
        extra.extend_from_slice(target.mean());
        extra.extend_from_slice(target.scale());
    }
    extra
}

/// Binds a checkpoint to its run: a hash of every option that decides the numbers (all of
/// `manifest.json`'s `config` but the data file's name, the epoch total and `--init`, which only
/// seeds the first epoch) and of the data as read (every feature's bits and every target).
pub fn binding(setup: &Setup<'_>) -> u64 {
    let mut options = serde_json::to_value(setup.spec).unwrap_or_default();
    if let Some(map) = options.as_object_mut() {
        for key in ["data", "epochs", "init"] {
            map.remove(key);
        }
    }
    let options = options.to_string();
    let features: Vec<u8> = setup
        .table
        .features
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .collect();
    let targets: Vec<u8> = match &setup.table.targets {
        Targets::Values(values) => values
            .iter()
            .flat_map(|v| v.to_bits().to_le_bytes())
            .collect(),
        Targets::Classes { labels, names } => labels
            .iter()
            .flat_map(|c| c.to_le_bytes())
            .chain(names.join("\n").into_bytes())
            .collect(),
    };
    crate::hash::fnv64(&[options.as_bytes(), &features, &targets])
}

/// A diagnosis event and the epoch whose record revealed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Noticed {
    /// The epoch whose record revealed the event.
    pub detected: u32,
    /// The event, with the epoch where it starts.
    pub event: Event,
}

impl Noticed {
    /// Its line of `events.jsonl`, e.g. `{"event":"overfitting","epoch":9,"detected":12,"message":"…"}`.
    pub fn to_json(&self) -> serde_json::Value {
        tinytrain_experiments::wire::event_json(self.detected, &self.event)
    }
}

/// Early stopping's line of `events.jsonl` (see [`tinytrain_experiments::wire::early_stopping_json`]).
pub fn early_stop_json(outcome: &early_stop::Outcome, last_epoch: u32) -> serde_json::Value {
    tinytrain_experiments::wire::early_stopping_json(outcome, last_epoch)
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Observer for Silent {}

/// A run resolved against its data: everything decided before the first epoch.
#[derive(Debug)]
pub struct Setup<'a> {
    /// The options.
    pub spec: &'a TrainSpec,
    /// The data.
    pub table: &'a Table,
    /// The output head.
    pub head: Head,
    /// The network.
    pub layers: Vec<Layer>,
    /// Its memory plan.
    pub plan: Plan,
    /// The core's training configuration (with the regression target's scale).
    pub config: TrainConfig,
    /// Training rows (0-based data rows, sorted).
    pub train_rows: Vec<u32>,
    /// Validation rows (0-based data rows, sorted).
    pub val_rows: Vec<u32>,
    /// Feature standardiser fitted on the training rows (`--normalize standard`).
    pub features: Option<Box<Standardizer<MAX_FEATURES>>>,
    /// Regression targets' standardiser fitted on the training rows (`--normalize standard`): one
    /// statistic per target column.
    pub target: Option<Standardizer<MAX_TARGETS>>,
    /// `--task autoencoder --normal CLASS`: the rows of the other classes, never trained on, that
    /// score the anomaly threshold (empty otherwise).
    pub anomaly_rows: Vec<u32>,
    /// What `--init` brought: the weights, and what its file says of the data (`None`: no
    /// `--init`).
    pub init: Option<Weights>,
    /// The parametrised layers, from the first, that `--init` loads (the rest, a new head, start
    /// from the seed): [`Weights::leading_layers`].
    pub init_layers: usize,
}

impl Setup<'_> {
    /// Leading parameters that do not train (`--freeze`).
    pub fn frozen_params(&self) -> usize {
        tinytrain::spec::frozen_params(&self.layers, self.config.freeze as usize)
    }

    /// `--task autoencoder`: the network reconstructs its inputs.
    pub fn is_autoencoder(&self) -> bool {
        self.spec.autoencoder.is_some()
    }

    /// `true` when an epoch's last mini-batch is a single sample that the core skips: with a batch
    /// norm, which has no variance over one sample (PyTorch raises on it).
    pub fn skips_last_sample(&self) -> bool {
        self.plan.has_batch_norm()
            && self.config.batch_size >= 2
            && self.train_rows.len() % self.config.batch_size as usize == 1
    }

    /// `(inputs, outputs)` of each dense layer.
    pub fn dense_shapes(&self) -> Vec<(usize, usize)> {
        self.layers
            .iter()
            .filter_map(|layer| match *layer {
                Layer::Dense { inputs, outputs } => Some((inputs, outputs)),
                _ => None,
            })
            .collect()
    }
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Trained {
    /// One record per epoch.
    pub records: Vec<EpochRecord>,
    /// The parameters after the last epoch, or the best epoch's when early stopping restored them,
    /// with what the network reads and predicts: a deployable model ([`crate::weights::About`]).
    pub weights: Weights,
    /// What the curve analyser noticed, in order.
    pub events: Vec<Noticed>,
    /// What early stopping did (`None`: not configured).
    pub early_stop: Option<early_stop::Outcome>,
    /// What the core's divergence guard skipped (all zero in a healthy run).
    pub divergence: DivergenceStats,
}

/// Finds (see [`csv_data::locate`]) and reads the spec's data file. Rows that `--drop-missing`
/// left out are reported on stderr, as the run no longer sees the whole file.
pub fn load_table(spec: &TrainSpec) -> anyhow::Result<Table> {
    let path = csv_data::locate(&spec.data)?;
    let options = csv_data::LoadOptions {
        label: spec.label.clone(),
        targets: spec.targets.clone(),
        task: spec.task,
        delimiter: spec.delimiter,
        ignore: spec.ignore.clone(),
        drop_missing: spec.drop_missing,
    };
    let loaded = csv_data::load_with(&path, &options)?;
    if loaded.dropped.rows > 0 {
        eprintln!("{}: {}", path.display(), loaded.dropped);
    }
    Ok(loaded.table)
}

/// Loads the data and trains: [`load_table`], [`prepare`], [`train`].
pub fn run(spec: &TrainSpec, observer: &mut impl Observer) -> anyhow::Result<Trained> {
    let table = load_table(spec)?;
    train(&prepare(spec, &table)?, observer)
}

/// The head for a task: softmax for three or more classes, one sigmoid output for two, and for
/// regression a linear output with the spec's loss (MSE by default).
pub fn head_for(spec: &TrainSpec, table: &Table) -> anyhow::Result<Head> {
    if spec.autoencoder.is_some() {
        return Ok(spec.loss.unwrap_or(defaults::REGRESSION_LOSS));
    }
    Ok(match (table.task(), spec.loss) {
        (Task::Regression, loss) => loss.unwrap_or(defaults::REGRESSION_LOSS),
        (Task::Classification, Some(_)) => bail!(
            "--loss applies to regression, but {} is a classification task (cross-entropy)",
            table.path.display()
        ),
        (Task::Classification, None) if table.classes() == 2 => Head::SigmoidBinaryCrossEntropy,
        (Task::Classification, None) => Head::SoftmaxCrossEntropy,
    })
}

/// Resolves `spec` against `table`: head, layers, split and normalisation.
pub fn prepare<'a>(spec: &'a TrainSpec, table: &'a Table) -> anyhow::Result<Setup<'a>> {
    spec.validate()?;
    // `csv_data::load` enforces these; a table built in code might not.
    if table.width() > MAX_FEATURES || table.classes() > MAX_CLASSES {
        bail!(
            "{}: more than {MAX_FEATURES} features or {MAX_CLASSES} classes",
            table.path.display()
        );
    }
    let head = head_for(spec, table)?;
    let outputs = match spec.autoencoder {
        Some(_) => table.width(),
        None if !head.is_classification() => table.target_width(),
        None => head.outputs_for(table.classes()),
    };
    let layers = spec.layers(table.width(), outputs);
    let plan = Plan::of(&layers).map_err(|e| anyhow!("the network does not fit together: {e}"))?;
    let freeze = core_freeze(&spec.freeze, &layers)?;

    let task = match spec.autoencoder {
        Some(_) => Task::Regression, // its metrics are errors, as a regression's
        None => table.task(),
    };
    if let Some(early) = &spec.early_stopping {
        check_monitor("--monitor", early.monitor, table, task)?;
    }
    if let LrSchedule::Plateau(plateau) = spec.schedule {
        check_monitor("--plateau-monitor", plateau.monitor, table, task)?;
    }
    let (mut train_rows, mut val_rows) = split_rows(spec, table)?;
    let mut anomaly_rows = Vec::new();
    if let Some(normal) = spec.autoencoder.as_ref().and_then(|a| a.normal.as_ref()) {
        let class = normal_class(table, normal)?;
        let is_normal = |row: &u32| match &table.targets {
            Targets::Classes { labels, .. } => labels[*row as usize] == class,
            Targets::Values(_) => true,
        };
        anomaly_rows = train_rows
            .iter()
            .chain(&val_rows)
            .copied()
            .filter(|r| !is_normal(r))
            .collect();
        anomaly_rows.sort_unstable();
        train_rows.retain(is_normal);
        val_rows.retain(is_normal);
    }

    let init = spec
        .init
        .as_ref()
        .map(|path| Weights::read(path).context("--init"))
        .transpose()?;
    let init_layers = match &init {
        Some(weights) => {
            let n = weights
                .leading_layers(&layers)
                .with_context(|| format!("--init {}", init_path(spec)))?;
            check_init_classes(weights, n, &layers, table, spec)?;
            n
        }
        None => 0,
    };
    let raw = table.dataset();
    let from_file = match &init {
        Some(weights) => init_normalizer(weights, table, spec)?,
        None => None,
    };
    let (features, target) = match spec.normalize {
        Normalize::None => (None, None),
        Normalize::Standard => {
            // An `--init` file's statistics, which its network was trained behind; else fitted on
            // the training rows.
            let (file_features, file_target) = from_file.unwrap_or((None, None));
            let features = file_features.unwrap_or_else(|| {
                let mut features = Box::new(Standardizer::<MAX_FEATURES>::new(table.width()));
                features.fit(&raw, &train_rows, &mut vec![0.0; table.width()]);
                features
            });
            let target = match &table.targets {
                Targets::Values(_) if file_target.is_some() => file_target,
                Targets::Values(values) => {
                    let k = table.target_width();
                    let mut target = Standardizer::<MAX_TARGETS>::new(k);
                    for &row in &train_rows {
                        let at = row as usize * k;
                        target.update(&values[at..at + k]);
                    }
                    target.freeze();
                    Some(target)
                }
                Targets::Classes { .. } => None,
            };
            // An autoencoder's targets are its (standardised) inputs.
            (
                Some(features),
                target.filter(|_| spec.autoencoder.is_none()),
            )
        }
    };
    // The metrics report a regression's errors in its target's own units: y = out·std + mean.
    // Several targets have several units, so their errors stay in standard deviations.
    let target_scale = match &target {
        Some(t) if t.mean().len() == 1 => (t.mean()[0], 1.0 / t.scale()[0]),
        _ => (0.0, 1.0),
    };
    let config = TrainConfig {
        freeze,
        ..spec.train_config(target_scale)
    };
    Ok(Setup {
        spec,
        table,
        head,
        layers,
        plan,
        config,
        train_rows,
        val_rows,
        features,
        target,
        anomaly_rows,
        init,
        init_layers,
    })
}

/// `--init`'s file, for messages.
fn init_path(spec: &TrainSpec) -> String {
    spec.init
        .as_ref()
        .map_or_else(String::new, |p| p.display().to_string())
}

/// An `--init` file that brings the output layer must mean the same classes by it.
fn check_init_classes(
    weights: &Weights,
    loaded: usize,
    layers: &[Layer],
    table: &Table,
    spec: &TrainSpec,
) -> anyhow::Result<()> {
    let parametrised = layers.iter().filter(|l| l.params() > 0).count();
    let Some(about) = &weights.about else {
        return Ok(());
    };
    if loaded < parametrised || about.class_names.is_empty() || spec.autoencoder.is_some() {
        return Ok(());
    }
    if about.class_names != table.class_names() {
        bail!(
            "--init {}: the file's output layer predicts the classes [{}] but {} has [{}]; a new \
             output layer needs another --hidden or class count, or retrain from scratch",
            init_path(spec),
            about.class_names.join(", "),
            table.path.display(),
            table.class_names().join(", ")
        );
    }
    Ok(())
}

/// The core's [`TrainConfig::freeze`] for `--freeze` (parametrised layers, weights.json's
/// numbering, a prefix by [`TrainSpec::validate`]): the index in `layers` of the first parametrised
/// layer that trains.
fn core_freeze(freeze: &[usize], layers: &[Layer]) -> anyhow::Result<u32> {
    let Some(&last) = freeze.last() else {
        return Ok(0);
    };
    let parametrised: Vec<usize> = (0..layers.len())
        .filter(|&i| layers[i].params() > 0)
        .collect();
    match parametrised.get(last + 1) {
        Some(&index) => Ok(index as u32),
        None => bail!(
            "--freeze {last}: the network has {} layers with parameters (0 to {}), so freezing \
             layers 0 to {last} leaves nothing to train",
            parametrised.len(),
            parametrised.len().saturating_sub(1)
        ),
    }
}

/// The standardisers an `--init` file carries (`None`: it carries none, and the run fits its
/// own), after checking that the file's model reads this data's columns.
type Standardizers = (
    Option<Box<Standardizer<MAX_FEATURES>>>,
    Option<Standardizer<MAX_TARGETS>>,
);

fn init_normalizer(
    weights: &Weights,
    table: &Table,
    spec: &TrainSpec,
) -> anyhow::Result<Option<Standardizers>> {
    let Some(about) = &weights.about else {
        return Ok(None);
    };
    let path = init_path(spec);
    if about.feature_names != table.feature_names {
        let missing: Vec<&str> = about
            .feature_names
            .iter()
            .filter(|name| !table.feature_names.contains(name))
            .map(String::as_str)
            .collect();
        bail!(
            "--init {path}: the file's model reads the features [{}] but {} has [{}]{}",
            about.feature_names.join(", "),
            table.path.display(),
            table.feature_names.join(", "),
            if missing.is_empty() {
                " (the same columns in another order, or fewer)".to_string()
            } else {
                format!(" (missing: {})", missing.join(", "))
            }
        );
    }
    let Some(normalization) = &about.normalization else {
        return Ok(None);
    };
    if spec.normalize == Normalize::None {
        return Ok(None); // said, and honoured: the inputs go in as they are
    }
    let target = normalization.target_standardizer();
    let (file, run) = (
        target.as_ref().map_or(0, |t| t.mean().len()),
        table.target_width(),
    );
    if table.task() == Task::Regression && file > 0 && file != run {
        bail!(
            "--init {path}: the file's model was trained on {file} regression targets, but this run \
             has {run} ({}); their statistics cannot carry over",
            table.labels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(Some((Some(normalization.feature_standardizer()), target)))
}

/// The class index of `--normal CLASS`, by its label text.
fn normal_class(table: &Table, normal: &str) -> anyhow::Result<u16> {
    let names = table.class_names();
    if names.is_empty() {
        bail!(
            "--normal {normal}: the label column {} of {} holds numbers, not classes",
            table.label().name,
            table.path.display()
        );
    }
    names
        .iter()
        .position(|name| name == normal)
        .map(|class| class as u16)
        .ok_or_else(|| {
            anyhow!(
                "--normal {normal}: no such class in the label column {} of {} (its classes: {})",
                table.label().name,
                table.path.display(),
                names.join(", ")
            )
        })
}

/// The core's stratified split, after checking that every class can be split and that neither side
/// comes out empty.
/// A monitored quantity the task has (`option` names the option that chose it).
fn check_monitor(option: &str, monitor: Monitor, table: &Table, task: Task) -> anyhow::Result<()> {
    let fits = match monitor {
        Monitor::ValAcc | Monitor::ValF1 => task == Task::Classification,
        Monitor::ValMae => task == Task::Regression,
        _ => true,
    };
    if !fits {
        bail!(
            "{option} {} does not apply to {}, a {} task",
            monitor.name(),
            table.path.display(),
            match task {
                Task::Classification => "classification",
                Task::Regression => "regression (or autoencoder)",
            }
        );
    }
    Ok(())
}

fn split_rows(spec: &TrainSpec, table: &Table) -> anyhow::Result<(Vec<u32>, Vec<u32>)> {
    if let Targets::Classes { labels, names } = &table.targets {
        let mut counts = vec![0usize; names.len()];
        labels
            .iter()
            .for_each(|&class| counts[usize::from(class)] += 1);
        if let Some((class, &count)) = counts.iter().enumerate().find(|&(_, &count)| count < 2) {
            let row = labels
                .iter()
                .position(|&c| usize::from(c) == class)
                .unwrap_or(0);
            let class = names[class].clone();
            return Err(table
                .label_error(row, Problem::ClassTooSmall { class, count })
                .into());
        }
    }
    let rows = table.rows();
    let (mut train_rows, mut val_rows) = (vec![0u32; rows], vec![0u32; rows]);
    let (n_train, n_val) = split(
        &table.dataset(),
        table.classes(),
        spec.val_fraction,
        spec.seed,
        &mut train_rows,
        &mut val_rows,
    )
    .context("internal error: split buffers too short")?;
    for (side, n) in [("training", n_train), ("validation", n_val)] {
        if n == 0 {
            return Err(table
                .error(Problem::EmptySplit {
                    side,
                    fraction: spec.val_fraction,
                    rows,
                })
                .into());
        }
    }
    train_rows.truncate(n_train);
    val_rows.truncate(n_val);
    Ok((train_rows, val_rows))
}

/// Trains `setup.spec.epochs` epochs, telling `observer` about each.
pub fn train(setup: &Setup<'_>, observer: &mut impl Observer) -> anyhow::Result<Trained> {
    train_from(setup, observer, None)
}

/// [`train`], or with `resume` the continuation of a run from its checkpoint up to
/// `setup.spec.epochs` epochs: the records and events of the epochs before the checkpoint are
/// replayed into the curve analyser, silently (the observer already has them), and the result is
/// bit-identical to an uninterrupted run.
pub fn train_from(
    setup: &Setup<'_>,
    observer: &mut impl Observer,
    resume: Option<&Resume>,
) -> anyhow::Result<Trained> {
    let spec = setup.spec;
    // The last good model (parameters and batch-norm statistics), for `--on-divergence
    // reduce-lr` (it outlives the trainer).
    let mut last_good = match setup.config.divergence {
        DivergencePolicy::ReduceLr { .. } => vec![0.0; setup.plan.params + setup.plan.stats],
        _ => Vec::new(),
    };
    let mut memory = VecMemory::try_for_run(&setup.plan, &setup.config, setup.frozen_params())?;
    let mut trainer = Trainer::<MAX_CLASSES>::new(
        &setup.layers,
        memory.buffers(),
        setup.config,
        setup.head,
        spec.seed,
    )
    .map_err(|e| anyhow!("cannot build the network: {e}"))?;
    if !last_good.is_empty() && !trainer.keep_last_good(&mut last_good) {
        bail!("internal error: the last-good buffer is shorter than the model");
    }
    // `run_epoch` shuffles this order in place; `setup.train_rows` stays sorted.
    let mut order = setup.train_rows.clone();
    let extra = checkpoint_extra(setup);
    match resume {
        Some(resume) => {
            let mut saved = vec![0.0; extra.len()];
            trainer
                .load_checkpoint(&resume.checkpoint, &mut order, &mut saved)
                .map_err(|e| anyhow!("cannot resume from the checkpoint: {e}"))?;
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            if bits(&saved[..4]) != bits(&extra[..4]) {
                bail!("cannot resume: the checkpoint belongs to another run (its options or data differ from the manifest's and the data file's as they are now: has either been edited?)");
            }
            if bits(&saved) != bits(&extra) {
                bail!("cannot resume: the normaliser statistics differ from the checkpoint's (has the data file changed?)");
            }
            if trainer.stopped() {
                bail!("cannot resume: the run was stopped by --on-divergence stop at epoch {}; start a new run instead", trainer.epoch());
            }
            if !trainer.net().params().iter().all(|p| p.is_finite()) {
                bail!("cannot resume: the checkpoint holds non-finite parameters");
            }
            let mut rows = order.clone();
            rows.sort_unstable();
            if rows != setup.train_rows {
                bail!("cannot resume: the checkpoint's training order is not a permutation of the run's training rows");
            }
            if spec.early_stopping.is_some() {
                bail!("cannot resume a run with early stopping or --restore-best (its best-weights snapshot is not checkpointed)");
            }
            if resume.records.len() != trainer.epoch() as usize {
                bail!(
                    "cannot resume: the checkpoint is at epoch {} but {} records were given",
                    trainer.epoch(),
                    resume.records.len()
                );
            }
        }
        None => {
            if let (Some(path), Some(weights)) = (&spec.init, &setup.init) {
                weights
                    .load_leading_into(trainer.net_mut(), setup.init_layers)
                    .with_context(|| format!("--init {}", path.display()))?;
            }
        }
    }
    let initial = Weights {
        about: Some(crate::weights::About::of(setup)),
        ..Weights::of(trainer.net())
    };
    observer.start(setup, &initial)?;

    let raw = setup.table.dataset();
    let data = Standardized::new(&raw, setup.features.as_deref(), setup.target.as_ref());
    let model_len = trainer.net().model_len();
    let mut snapshot = spec
        .early_stopping
        .map_or_else(Vec::new, |c| vec![0.0; c.snapshot_len(model_len)]);
    let stopper = spec
        .early_stopping
        .map(|c| EarlyStopping::new(c, model_len, &mut snapshot))
        .transpose()
        .map_err(|e| anyhow!("internal error: early stopping: {e}"))?;
    let mut driver = Driver::new(trainer.classes(), stopper);
    let mut seen = Seen {
        observer,
        records: Vec::new(),
        events: Vec::new(),
        checkpoint: Vec::new(),
        extra,
    };
    if let Some(resume) = resume {
        // The epochs before the checkpoint, silently: the observer already has them.
        for record in &resume.records {
            seen.records.push(*record);
            driver.replay(record, |detected, event| {
                seen.events.push(Noticed { detected, event })
            });
        }
    }
    let epochs = spec.epochs;
    let outcome = if setup.is_autoencoder() {
        let data = Reconstruct(&data);
        driver.run(
            &mut trainer,
            &data,
            &mut order,
            &setup.val_rows,
            epochs,
            &mut seen,
        )?
    } else {
        driver.run(
            &mut trainer,
            &data,
            &mut order,
            &setup.val_rows,
            epochs,
            &mut seen,
        )?
    };
    Ok(Trained {
        records: seen.records,
        weights: Weights {
            about: Some(crate::weights::About::of(setup)),
            ..Weights::of(trainer.net())
        },
        events: seen.events,
        early_stop: outcome.early_stop,
        divergence: outcome.divergence,
    })
}

/// The driver's observer for a host run: keeps the records and events for [`Trained`], writes the
/// checkpoint, and passes everything on to the caller's [`Observer`].
struct Seen<'o, O> {
    observer: &'o mut O,
    records: Vec<EpochRecord>,
    events: Vec<Noticed>,
    /// The checkpoint's bytes, sized at the first epoch end.
    checkpoint: Vec<u8>,
    /// [`checkpoint_extra`].
    extra: Vec<f32>,
}

impl<O: Observer> driver::Observer<anyhow::Error> for Seen<'_, O> {
    fn progress(&mut self, epoch: u32, done: usize) {
        self.observer.progress(epoch, done);
    }

    fn epoch(&mut self, record: &EpochRecord) -> anyhow::Result<()> {
        self.records.push(*record);
        self.observer.epoch(record)
    }

    fn event(&mut self, detected: u32, event: &Event) -> anyhow::Result<()> {
        let noticed = Noticed {
            detected,
            event: *event,
        };
        self.events.push(noticed);
        self.observer.event(&noticed)
    }

    fn epoch_end<const C: usize, T: tinytrain::train::Settings, I: tinytrain::data::RowIndex>(
        &mut self,
        trainer: &Trainer<'_, C, T>,
        order: &[I],
    ) -> anyhow::Result<()> {
        if !self.observer.wants_checkpoints() {
            return Ok(());
        }
        if self.checkpoint.is_empty() {
            self.checkpoint = vec![0u8; trainer.checkpoint_len(order.len(), self.extra.len())];
        }
        let n = trainer
            .save_checkpoint(trainer.epoch(), order, &self.extra, &mut self.checkpoint)
            .map_err(|e| anyhow!("internal error: checkpoint: {e}"))?;
        self.observer
            .checkpoint(trainer.epoch(), &self.checkpoint[..n])
    }

    fn early_stop(&mut self, outcome: &early_stop::Outcome) -> anyhow::Result<()> {
        self.observer.early_stop(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn table(labels: &[u16], names: &[&str]) -> Table {
        let rows = labels.len();
        Table {
            path: PathBuf::from("t.csv"),
            feature_names: vec!["x".into()],
            labels: vec![csv_data::Column {
                name: "y".into(),
                number: 2,
            }],
            features: (0..rows).map(|i| i as f32).collect(),
            targets: Targets::Classes {
                labels: labels.to_vec(),
                names: names.iter().map(|s| s.to_string()).collect(),
            },
            lines: (2..rows as u64 + 2).collect(),
        }
    }

    #[test]
    fn heads_follow_the_task() {
        let spec = TrainSpec::default();
        let three = table(&[0, 1, 2], &["a", "b", "c"]);
        assert_eq!(head_for(&spec, &three).unwrap(), Head::SoftmaxCrossEntropy);
        let two = table(&[0, 1], &["a", "b"]);
        assert_eq!(
            head_for(&spec, &two).unwrap(),
            Head::SigmoidBinaryCrossEntropy
        );
        let values = Table {
            targets: Targets::Values(vec![1.0, 2.0]),
            ..two.clone()
        };
        assert_eq!(head_for(&spec, &values).unwrap(), Head::LinearMse);
        let l1 = TrainSpec {
            loss: Some(Head::LinearL1),
            ..spec
        };
        assert_eq!(head_for(&l1, &values).unwrap(), Head::LinearL1);
        let message = head_for(&l1, &two).unwrap_err().to_string();
        assert_eq!(
            message,
            "--loss applies to regression, but t.csv is a classification task (cross-entropy)"
        );
    }

    #[test]
    fn a_class_with_one_row_cannot_be_stratified() {
        let t = table(&[0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2], &["a", "b", "c"]);
        let message = prepare(&TrainSpec::default(), &t).unwrap_err().to_string();
        assert_eq!(message, "t.csv: line 12, column 'y' (2): class 'c' has only 1 row; a stratified split needs at least 2 rows per class");
    }

    #[test]
    fn an_empty_side_of_the_split_is_an_error() {
        let t = table(&[0, 1, 0, 1, 0, 1, 0, 1, 0, 1], &["a", "b"]);
        let spec = TrainSpec {
            val_fraction: 0.01,
            ..TrainSpec::default()
        };
        let message = prepare(&spec, &t).unwrap_err().to_string();
        assert_eq!(
            message,
            "t.csv: a validation fraction of 0.01 leaves the validation set empty (10 rows in all)"
        );
        let spec = TrainSpec {
            val_fraction: 0.95,
            ..TrainSpec::default()
        };
        // Every class keeps a training row however large the fraction (the core's split).
        let setup = prepare(&spec, &t).unwrap();
        assert_eq!((setup.train_rows.len(), setup.val_rows.len()), (2, 8));
    }

    #[test]
    fn prepare_splits_and_standardises_on_training_rows() {
        let labels: Vec<u16> = (0..20).map(|i| i % 2).collect();
        let t = table(&labels, &["a", "b"]);
        let spec = TrainSpec::default();
        let setup = prepare(&spec, &t).unwrap();
        assert_eq!((setup.train_rows.len(), setup.val_rows.len()), (16, 4));
        assert!(setup.train_rows.windows(2).all(|w| w[0] < w[1]));
        let mean = setup.train_rows.iter().map(|&r| r as f32).sum::<f32>() / 16.0;
        assert!((setup.features.as_ref().unwrap().mean()[0] - mean).abs() < 1e-5);
        assert_eq!(setup.head, Head::SigmoidBinaryCrossEntropy);
        assert_eq!(setup.dense_shapes(), [(1, 64), (64, 1)]);
    }

    #[test]
    fn training_reports_every_epoch() {
        struct Count(u32, bool);
        impl Observer for Count {
            fn start(&mut self, _: &Setup<'_>, _: &Weights) -> anyhow::Result<()> {
                self.1 = true;
                Ok(())
            }
            fn epoch(&mut self, record: &EpochRecord) -> anyhow::Result<()> {
                self.0 += 1;
                assert_eq!(record.epoch, self.0);
                Ok(())
            }
        }
        let labels: Vec<u16> = (0..20).map(|i| u16::from(i >= 10)).collect();
        let t = table(&labels, &["low", "high"]);
        let spec = TrainSpec {
            epochs: 3,
            ..TrainSpec::default()
        };
        let mut count = Count(0, false);
        let trained = train(&prepare(&spec, &t).unwrap(), &mut count).unwrap();
        assert_eq!((count.0, count.1, trained.records.len()), (3, true, 3));
        assert!(trained.records[2].val_acc.is_some());
    }
}
