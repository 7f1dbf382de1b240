//! The device's defmt lines, as decoded text.
//!
//! A line is a keyword, then `key=value` tokens (see `firmware/README.md`, "defmt lines"); the floats
//! of an `epoch` line come from its `bits=` words. A decoder wraps each message in its log format;
//! [`message`] unwraps every format of defmt-decoder (`tinytrain decode --elf`, `defmt-print` and
//! `probe-rs run` print them):
//!
//! ```text
//! INFO  epoch 1/20 …                          level, message ("{L} {s}": decode --elf, defmt-print)
//! 0.000123 INFO  epoch 1/20 …                 a timestamp first ("{t} {L} {s}")
//! └─ tinytrain_firmware::report @ src/report.rs:140     the location line that follows (skipped)
//! [INFO ] epoch 1/20 … (tinytrain_firmware src/report.rs:140)      the "oneline" format
//! ```
//!
//! ANSI colour sequences (a decoder writing to a terminal) are removed first ([`strip_ansi`]).

use std::borrow::Cow;

use tinytrain::record::{EpochRecord, FLOATS};

/// The levels defmt prints.
const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// `line` without ANSI escape sequences (`ESC [ … letter`).
pub fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `true` for the location line defmt-decoder prints after a message (`└─ module @ file:line`).
pub fn is_location(line: &str) -> bool {
    line.trim_start().starts_with("└─")
}

/// The message of a decoded log line (see the [module documentation](self)); `None` if `line` has
/// no level, so it is no log line.
///
/// ```
/// use tinytrain_experiments::wire::log::message;
/// assert_eq!(message("INFO  epoch 1/2"), Some("epoch 1/2"));
/// assert_eq!(message("0.000123 WARN divergence x=1"), Some("divergence x=1"));
/// assert_eq!(message("[ERROR] panic: oops (tinytrain_firmware src/lib.rs:62)"), Some("panic: oops"));
/// assert_eq!(message("epoch 1/2"), None);
/// ```
pub fn message(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let after_level = level_prefix(line).or_else(|| {
        let (stamp, rest) = line.split_once(' ')?;
        let is_stamp = stamp.bytes().any(|b| b.is_ascii_digit())
            && stamp
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b':');
        is_stamp.then(|| level_prefix(rest.trim_start())).flatten()
    })?;
    let (message, bracketed) = after_level;
    let message = message.trim_start_matches(' ');
    Some(if bracketed {
        strip_location_suffix(message)
    } else {
        message
    })
}

/// `line` without its level prefix (`INFO  epoch …` → `epoch …`), or `line` itself if it has none.
pub fn strip_level(line: &str) -> &str {
    message(line).unwrap_or(line)
}

/// After a level at the start of `text` (`INFO ` or `[INFO ]`): the rest, and whether it was the
/// bracketed ("oneline") form.
fn level_prefix(text: &str) -> Option<(&str, bool)> {
    if let Some(inner) = text.strip_prefix('[') {
        let (level, rest) = inner.split_once(']')?;
        return LEVELS.contains(&level.trim()).then_some((rest, true));
    }
    LEVELS.iter().find_map(|level| {
        let rest = text.strip_prefix(level)?;
        (rest.is_empty() || rest.starts_with(' ')).then_some((rest, false))
    })
}

/// The oneline format's ` (crate file:line)` removed from the end of `message`.
fn strip_location_suffix(message: &str) -> &str {
    let trimmed = message.trim_end();
    let Some(open) = trimmed.strip_suffix(')').and_then(|t| t.rfind(" (")) else {
        return message;
    };
    let location = &trimmed[open + 2..trimmed.len() - 1];
    let line_number = location.rsplit_once(':').map(|(_, n)| n);
    if line_number.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
        &trimmed[..open]
    } else {
        message
    }
}

/// Parses an `epoch` line's message: `epoch <n>/<epochs> name=<f32> ... bits=<words>`. The floats
/// come from the `bits=` words, one per float field named before it, in order; `0xffffffff` marks
/// an absent field. `None` if the line is not a well-formed epoch line.
///
/// ```
/// let line = "epoch 1/20 train_loss=1 train_acc=0.5 val_loss=NaN val_acc=0.25 val_f1=0.2 lr=0.01 \
///             bits=0x3f800000,0x3f000000,0xffffffff,0x3e800000,0x3e4ccccd,0x3c23d70a";
/// let r = tinytrain_experiments::wire::log::parse_epoch(line).unwrap();
/// assert_eq!((r.epoch, r.train_loss, r.train_acc, r.val_loss), (1, 1.0, Some(0.5), None));
/// assert_eq!(r.lr.to_bits(), 0x3c23d70a);
/// ```
pub fn parse_epoch(message: &str) -> Option<EpochRecord> {
    let mut tokens = message.split_whitespace();
    if tokens.next()? != "epoch" {
        return None;
    }
    let (epoch, epochs) = tokens.next()?.split_once('/')?;
    let epoch: u32 = epoch.parse().ok()?;
    // `n/total` with n outside 1..=total cannot be sent: a damaged counter.
    if epoch == 0 || epoch > epochs.parse::<u32>().ok()? {
        return None;
    }
    let mut named = Vec::new();
    let mut words = None;
    for token in tokens {
        let (key, value) = token.split_once('=')?;
        if words.is_some() {
            return None; // nothing follows the bits
        }
        if key == "bits" {
            words = Some(
                value
                    .split(',')
                    .map(|w| u32::from_str_radix(w.strip_prefix("0x")?, 16).ok())
                    .collect::<Option<Vec<u32>>>()?,
            );
        } else {
            let field = EpochRecord::FLOAT_NAMES.iter().position(|&n| n == key)?;
            named.push((field, value));
        }
    }
    let words = words?;
    if words.len() != named.len() {
        return None;
    }
    let mut floats = [None; FLOATS];
    for (&(field, text), &bits) in named.iter().zip(&words) {
        // Each float is sent twice, as text and as bits: a line where they disagree was damaged on
        // the way (defmt frames carry no checksum), and is refused rather than decoded wrongly.
        if !text_matches_bits(text, bits) {
            return None;
        }
        floats[field] = (bits != u32::MAX).then(|| f32::from_bits(bits));
    }
    EpochRecord::from_floats(epoch, floats)
}

/// `text` (defmt's `{=f32}`: the shortest decimal that reads back as the same `f32`, or `NaN`)
/// denotes the float whose bit pattern is `bits` (`0xffffffff`: absent, printed as `NaN`).
fn text_matches_bits(text: &str, bits: u32) -> bool {
    match text.parse::<f32>() {
        Ok(value) if value.is_nan() => f32::from_bits(bits).is_nan(),
        Ok(value) => value.to_bits() == bits,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_log_format_of_defmt_decoder_unwraps_to_the_message() {
        let m = "epoch 3/20 train_loss=0.5";
        for line in [
            format!("INFO  {m}"),
            format!("INFO {m}"),
            format!("0.000123 INFO  {m}"),
            format!("12 INFO {m}"),
            format!("[INFO ] {m}"),
            format!("[INFO ] {m} (tinytrain_firmware src/report.rs:300)"),
            format!("0.5 [INFO ] {m} (tinytrain_firmware src/report.rs:300)"),
            format!("\u{1b}[32mINFO \u{1b}[0m {m}"),
        ] {
            assert_eq!(message(&strip_ansi(&line)), Some(m), "{line:?}");
        }
        assert!(is_location(
            "└─ tinytrain_firmware::report::log_epoch @ src/report.rs:300"
        ));
        assert_eq!(message("INFORMATION x"), None);
        assert_eq!(message("0.1 epoch 1/2"), None);
    }
}
