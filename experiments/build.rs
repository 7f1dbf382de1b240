//! Turns the project's CSV datasets into compact binary tables that the crate embeds with
//! `include_bytes!`, so a firmware carries its training data in flash.
//!
//! * `digits_pixels.bin`: 1797 × 64 pixels, one `u8` each (0..=16), row-major.
//! * `digits_labels.bin`: one `u8` class per row.
//! * `iris_features.bin`: 150 × 4 features as `f32` little-endian bytes, each the value Rust's
//!   `str::parse::<f32>` gives for the CSV text (what a host reading the CSV gets, bit for bit).
//! * `iris_labels.bin`: one `u8` class per row.
//!
//! Any malformed cell fails the build: an experiment must never train on silently altered data.

use std::{env, fs, path::PathBuf};

struct Table {
    features: Vec<String>,
    labels: Vec<u8>,
}

fn read(path: &PathBuf, columns: usize, classes: u8) -> Table {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("{}: empty file", path.display()));
    assert_eq!(
        header.split(',').count(),
        columns + 1,
        "{}: header has the wrong width",
        path.display()
    );
    let mut table = Table {
        features: Vec::new(),
        labels: Vec::new(),
    };
    for (row, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.trim().split(',').collect();
        assert_eq!(
            cells.len(),
            columns + 1,
            "{}: row {row} has {} cells",
            path.display(),
            cells.len()
        );
        let label: u8 = cells[columns]
            .parse()
            .unwrap_or_else(|e| panic!("{}: row {row} label: {e}", path.display()));
        assert!(
            label < classes,
            "{}: row {row} label {label} out of range",
            path.display()
        );
        table
            .features
            .extend(cells[..columns].iter().map(|c| c.to_string()));
        table.labels.push(label);
    }
    table
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let data = manifest.join("../data");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    let digits_csv = data.join("digits.csv");
    println!("cargo:rerun-if-changed={}", digits_csv.display());
    let digits = read(&digits_csv, 64, 10);
    let pixels: Vec<u8> = digits
        .features
        .iter()
        .map(|c| match c.parse::<u8>() {
            Ok(p) if p <= 16 => p,
            _ => panic!("digits.csv: pixel {c:?} is not an integer in 0..=16"),
        })
        .collect();
    assert_eq!(digits.labels.len(), 1797, "digits.csv: expected 1797 rows");
    fs::write(out.join("digits_pixels.bin"), &pixels).expect("writing digits_pixels.bin");
    fs::write(out.join("digits_labels.bin"), &digits.labels).expect("writing digits_labels.bin");

    let iris_csv = data.join("iris.csv");
    println!("cargo:rerun-if-changed={}", iris_csv.display());
    let iris = read(&iris_csv, 4, 3);
    assert_eq!(iris.labels.len(), 150, "iris.csv: expected 150 rows");
    let mut features = Vec::with_capacity(iris.features.len() * 4);
    for cell in &iris.features {
        let value: f32 = cell
            .parse()
            .unwrap_or_else(|e| panic!("iris.csv: {cell:?}: {e}"));
        assert!(value.is_finite(), "iris.csv: {cell:?} is not finite");
        features.extend_from_slice(&value.to_le_bytes());
    }
    fs::write(out.join("iris_features.bin"), &features).expect("writing iris_features.bin");
    fs::write(out.join("iris_labels.bin"), &iris.labels).expect("writing iris_labels.bin");
    init_weights(&out);
    println!("cargo:rerun-if-changed=build.rs");
}

/// `TINYTRAIN_INIT_WEIGHTS=path/to/weights.json`: the parameters as `OUT_DIR/init_weights.rs`
/// (see `src/init.rs`), with `TINYTRAIN_INIT_EXPERIMENT` naming the experiment (default: the one
/// whose network has the file's shape, decided at compile time). Unset: no built-in weights.
fn init_weights(out: &std::path::Path) {
    println!("cargo:rerun-if-env-changed=TINYTRAIN_INIT_WEIGHTS");
    println!("cargo:rerun-if-env-changed=TINYTRAIN_INIT_EXPERIMENT");
    let experiment = env::var("TINYTRAIN_INIT_EXPERIMENT").unwrap_or_default();
    let code = match env::var_os("TINYTRAIN_INIT_WEIGHTS").filter(|p| !p.is_empty()) {
        None => "pub const SOURCE: Option<&str> = None;\npub const EXPERIMENT: &str = \"\";\n\
                 pub const SHAPES: &[(usize, usize)] = &[];\npub const PARAMS: &[f32] = &[];\n"
            .to_string(),
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "TINYTRAIN_INIT_WEIGHTS: cannot read {}: {e}",
                    path.display()
                )
            });
            let layers = weights::parse(&text)
                .unwrap_or_else(|e| panic!("TINYTRAIN_INIT_WEIGHTS: {}: {e}", path.display()));
            let mut shapes = Vec::new();
            let mut params = Vec::new();
            for (k, (weight, bias)) in layers.iter().enumerate() {
                let outputs = weight.len();
                let inputs = weight.first().map_or(0, Vec::len);
                assert!(
                    outputs > 0 && inputs > 0 && weight.iter().all(|row| row.len() == inputs),
                    "TINYTRAIN_INIT_WEIGHTS: layer {k}: the weight is not a non-empty [outputs][inputs] matrix"
                );
                assert_eq!(
                    bias.len(),
                    outputs,
                    "TINYTRAIN_INIT_WEIGHTS: layer {k}: {outputs} weight rows but {} biases",
                    bias.len()
                );
                shapes.push((inputs, outputs));
                weight.iter().for_each(|row| params.extend_from_slice(row));
                params.extend_from_slice(bias);
            }
            let shapes: Vec<String> = shapes.iter().map(|(i, o)| format!("({i}, {o})")).collect();
            let params: Vec<String> = params
                .iter()
                .map(|v| format!("f32::from_bits({:#010x})", v.to_bits()))
                .collect();
            format!(
                "pub const SOURCE: Option<&str> = Some({:?});\npub const EXPERIMENT: &str = {experiment:?};\n\
                 pub const SHAPES: &[(usize, usize)] = &[{}];\npub const PARAMS: &[f32] = &[{}];\n",
                path.display().to_string(),
                shapes.join(", "),
                params.join(", ")
            )
        }
    };
    fs::write(out.join("init_weights.rs"), code).expect("writing init_weights.rs");
}

/// A minimal reader of `weights.json` (`{"layers":[{"weight":[[..]],"bias":[..]}, ...]}`), so the
/// build needs no JSON crate. Numbers go through `str::parse::<f32>`, which rounds correctly: the
/// same bits as the host's reader.
mod weights {
    type Layer = (Vec<Vec<f32>>, Vec<f32>);

    enum Value {
        Number(f32),
        Text(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
        Other,
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl Parser<'_> {
        fn skip(&mut self) {
            while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
                self.at += 1;
            }
        }

        fn eat(&mut self, byte: u8) -> bool {
            self.skip();
            if self.bytes.get(self.at) == Some(&byte) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            self.skip();
            match self.bytes.get(self.at) {
                Some(b'[') => {
                    self.at += 1;
                    let mut items = Vec::new();
                    if self.eat(b']') {
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            return Ok(Value::Array(items));
                        }
                        if !self.eat(b',') {
                            return Err(format!("expected , or ] at byte {}", self.at));
                        }
                    }
                }
                Some(b'{') => {
                    self.at += 1;
                    let mut fields = Vec::new();
                    if self.eat(b'}') {
                        return Ok(Value::Object(fields));
                    }
                    loop {
                        let Value::Text(key) = self.value()? else {
                            return Err(format!("expected a key at byte {}", self.at));
                        };
                        if !self.eat(b':') {
                            return Err(format!("expected : at byte {}", self.at));
                        }
                        fields.push((key, self.value()?));
                        if self.eat(b'}') {
                            return Ok(Value::Object(fields));
                        }
                        if !self.eat(b',') {
                            return Err(format!("expected , or }} at byte {}", self.at));
                        }
                    }
                }
                Some(b'"') => {
                    self.at += 1;
                    let start = self.at;
                    while self.bytes.get(self.at).is_some_and(|&b| b != b'"') {
                        self.at += 1 + usize::from(self.bytes[self.at] == b'\\');
                    }
                    let text =
                        String::from_utf8_lossy(&self.bytes[start..self.at.min(self.bytes.len())]);
                    self.at += 1;
                    Ok(Value::Text(text.into_owned()))
                }
                Some(_) => {
                    let start = self.at;
                    while self
                        .bytes
                        .get(self.at)
                        .is_some_and(|b| !b",]} \t\r\n".contains(b))
                    {
                        self.at += 1;
                    }
                    let token = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or("");
                    match token {
                        "true" | "false" | "null" => Ok(Value::Other),
                        _ => token
                            .parse::<f32>()
                            .map(Value::Number)
                            .map_err(|_| format!("{token:?} is not a number (byte {start})")),
                    }
                }
                None => Err("unexpected end of file".into()),
            }
        }
    }

    fn field<'v>(fields: &'v [(String, Value)], name: &str) -> Result<&'v Value, String> {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("no \"{name}\""))
    }

    fn numbers(value: &Value) -> Result<Vec<f32>, String> {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::Number(x) if x.is_finite() => Ok(*x),
                    _ => Err("an array holds something other than a finite number".to_string()),
                })
                .collect(),
            _ => Err("expected an array of numbers".into()),
        }
    }

    pub fn parse(text: &str) -> Result<Vec<Layer>, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            at: 0,
        };
        let Value::Object(top) = parser.value()? else {
            return Err("not a JSON object".into());
        };
        let Value::Array(layers) = field(&top, "layers")? else {
            return Err("\"layers\" is not an array".into());
        };
        layers
            .iter()
            .map(|layer| {
                let Value::Object(fields) = layer else {
                    return Err("a layer is not an object".to_string());
                };
                let Value::Array(rows) = field(fields, "weight")? else {
                    return Err("\"weight\" is not an array".to_string());
                };
                let weight = rows.iter().map(numbers).collect::<Result<Vec<_>, _>>()?;
                Ok((weight, numbers(field(fields, "bias")?)?))
            })
            .collect()
    }
}
