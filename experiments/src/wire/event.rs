//! A diagnosis event, in its one shape on every channel: the event's name, the epoch where it
//! starts, the epoch whose record revealed it, then its extra fields (`non_finite` for a divergence;
//! `message`, the event's sentence, in `events.jsonl` only — the device saves the flash).
//!
//! ```text
//! serial frame:  {"event":"divergence","epoch":4,"detected":4,"non_finite":true}*<crc>
//! events.jsonl:  the same fields (keys in alphabetical order) with "message":"…"
//! defmt line:    event=divergence epoch=4 detected=4 non_finite=true
//! ```
//!
//! Early stopping's line of `events.jsonl` ([`early_stopping_json`]) has the same first three
//! fields (`"event":"early_stopping"`).

use tinytrain::diagnose::Event;

/// An event's fields, in wire order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "host", derive(serde::Deserialize))]
pub struct EventFrame<'a> {
    /// [`Event::name`].
    pub event: &'a str,
    /// [`Event::epoch`]: where it starts.
    pub epoch: u32,
    /// The epoch whose record revealed it.
    pub detected: u32,
    /// The event's sentence ([`Event`]'s `Display`; `None` on the device).
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "Option::is_none", borrow, default)
    )]
    pub message: Option<&'a str>,
    /// [`Event::non_finite`].
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub non_finite: Option<bool>,
}

impl<'a> EventFrame<'a> {
    /// The fields of `event`, revealed at epoch `detected` (without a message).
    pub fn new(detected: u32, event: &Event) -> Self {
        Self {
            event: event.name(),
            epoch: event.epoch(),
            detected,
            message: None,
            non_finite: event.non_finite(),
        }
    }

    /// The event these fields name (`None`: no such event, or a `non_finite` where none belongs).
    pub fn event(&self) -> Option<Event> {
        Event::from_name(self.event, self.epoch, self.non_finite)
    }
}

/// Writes the event frame's JSON into `buffer` and returns its length (`None` if it does not fit).
#[cfg(feature = "serde")]
pub fn encode(detected: u32, event: &Event, buffer: &mut [u8]) -> Option<usize> {
    serde_json_core::to_slice(&EventFrame::new(detected, event), buffer).ok()
}

/// An event frame's JSON value as `(detected, event)`; `None` if it is not a well-formed event.
#[cfg(feature = "host")]
pub fn parse(value: &serde_json::Value) -> Option<(u32, Event)> {
    use serde::Deserialize;
    let fields = EventFrame::deserialize(value).ok()?;
    Some((fields.detected, fields.event()?))
}

/// A defmt `event=…` line's message as `(detected, event)`; `None` if it is not a well-formed one.
///
/// ```
/// use tinytrain::diagnose::Event;
/// use tinytrain_experiments::wire::event::parse_line;
/// assert_eq!(parse_line("event=overfitting epoch=23 detected=26"), Some((26, Event::Overfitting { epoch: 23 })));
/// assert_eq!(parse_line("event=plateau epoch=3"), None);
/// ```
#[cfg(feature = "host")]
pub fn parse_line(message: &str) -> Option<(u32, Event)> {
    let mut tokens = message.split_whitespace();
    let name = tokens.next()?.strip_prefix("event=")?;
    let (mut epoch, mut detected, mut non_finite) = (None, None, None);
    for token in tokens {
        match token.split_once('=')? {
            ("epoch", v) => epoch = Some(v.parse().ok()?),
            ("detected", v) => detected = Some(v.parse().ok()?),
            ("non_finite", v) => non_finite = Some(v.parse().ok()?),
            _ => return None,
        }
    }
    let event = Event::from_name(name, epoch?, non_finite)?;
    Some((detected?, event))
}

/// The line of `events.jsonl` of `event`, revealed at epoch `detected`: the frame's fields and the
/// `message`.
#[cfg(feature = "host")]
pub fn event_json(detected: u32, event: &Event) -> serde_json::Value {
    let message = event.to_string();
    let fields = EventFrame {
        message: Some(&message),
        ..EventFrame::new(detected, event)
    };
    serde_json::to_value(fields).unwrap_or_default()
}

/// Early stopping's line of `events.jsonl`: `{"event":"early_stopping","epoch":…,"detected":…,…}`,
/// `epoch` and `detected` being the stopping epoch (or `last_epoch`, when nothing stopped the run),
/// then the outcome's fields.
#[cfg(feature = "host")]
pub fn early_stopping_json(
    outcome: &tinytrain::early_stop::Outcome,
    last_epoch: u32,
) -> serde_json::Value {
    let epoch = outcome.stopped_epoch.unwrap_or(last_epoch);
    serde_json::json!({
        "event": "early_stopping",
        "epoch": epoch,
        "detected": epoch,
        "stopped": outcome.stopped_epoch.is_some(),
        "monitor": outcome.monitor.name(),
        "best_epoch": outcome.best_epoch,
        "best": outcome.best,
        "patience": outcome.patience,
        "restored_epoch": outcome.restored_epoch,
        "snapshot_bytes": outcome.snapshot_bytes,
    })
}

#[cfg(all(test, feature = "host"))]
mod tests {
    use super::*;

    #[test]
    fn every_channel_carries_the_same_fields() {
        let event = Event::Divergence {
            epoch: 4,
            non_finite: true,
        };
        let mut buffer = [0u8; 128];
        let n = encode(4, &event, &mut buffer).unwrap();
        let json = core::str::from_utf8(&buffer[..n]).unwrap();
        assert_eq!(
            json,
            r#"{"event":"divergence","epoch":4,"detected":4,"non_finite":true}"#
        );
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(parse(&value), Some((4, event)));
        let file = event_json(4, &event);
        assert_eq!(parse(&file), Some((4, event)));
        assert_eq!(file["message"], event.to_string());
        assert_eq!(
            parse_line("event=divergence epoch=4 detected=4 non_finite=true"),
            Some((4, event))
        );
        assert_eq!(parse_line("event=divergence epoch=4 detected=4"), None);
    }
}
