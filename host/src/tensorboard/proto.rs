//! The protobuf messages of an event file, declared by hand with the field numbers of tensorflow's
//! `core/util/event.proto`, `core/framework/summary.proto`, `tensor.proto` and
//! `tensor_shape.proto` (TensorBoard keeps copies under `tensorboard/compat/proto/`). Only the
//! fields tinytrain writes are declared; a reader skips the others as unknown.

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The training step (here: the epoch; 0 for what precedes the first).
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "What", tags = "3, 5, 7")]
    pub what: Option<What>,
    /// Which program wrote the file.
    #[prost(message, optional, tag = "10")]
    pub source_metadata: Option<SourceMetadata>,
}

/// `Event.what`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The file's format, `brain.Event:2`: the first event of every file.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Scalars or texts.
    #[prost(message, tag = "5")]
    Summary(Summary),
    /// A session's start or end.
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `tensorflow.SessionLog`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// A [`SessionStatus`].
    #[prost(enumeration = "SessionStatus", tag = "1")]
    pub status: i32,
}

/// `tensorflow.SessionLog.SessionStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SessionStatus {
    /// Not set.
    StatusUnspecified = 0,
    /// A (re)start: TensorBoard drops what earlier files of the run hold from this step on.
    Start = 1,
}

/// `tensorflow.SourceMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SourceMetadata {
    /// The writer's name.
    #[prost(string, tag = "1")]
    pub writer: String,
}

/// `tensorflow.Summary`: the values of one step.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// One per tag.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// `tensorflow.Summary.Value`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    /// The series, e.g. `Loss/train`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// Which plugin shows a tensor value.
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    /// The value.
    #[prost(oneof = "Kind", tags = "2, 8")]
    pub value: Option<Kind>,
}

/// `Summary.Value.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Kind {
    /// A scalar (the scalars dashboard).
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    /// A tensor, here a string for the text plugin.
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The plugin.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// E.g. `text`.
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// The plugin's own serialised settings (the text plugin's version 0: empty).
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorflow.TensorProto`, as far as a string tensor needs it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// `tensorflow.DataType`: [`DT_STRING`].
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// No dimensions: a scalar.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// The strings, UTF-8.
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `tensorflow.DataType.DT_STRING` (`types.proto`).
pub const DT_STRING: i32 = 7;

/// `tensorflow.TensorShapeProto` of a scalar: no `dim` (field 2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {}
