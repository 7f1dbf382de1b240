//! The live view (ratatui on crossterm): a status line with the latest epoch, the loss and
//! accuracy (or MAE) charts, and the events and device log. `q`, Esc or Ctrl-C quit; the run is
//! saved when the input ends (the view then stays until a key quits) or on quitting.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, List, ListItem, Paragraph};
use ratatui::Frame;
use tinytrain::record::EpochRecord;

use super::{epoch_line, Input, State};

/// Runs the live view until the user quits (after the input ended, or earlier: Ctrl-C / `q`).
pub fn run(state: &mut State, receiver: &Receiver<Input>, no_plot: bool) -> anyhow::Result<()> {
    let mut terminal = ratatui::init();
    let result = view(&mut terminal, state, receiver, no_plot);
    ratatui::restore();
    let note = result?;
    eprintln!("{note}");
    Ok(())
}

fn view(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    receiver: &Receiver<Input>,
    no_plot: bool,
) -> anyhow::Result<String> {
    let mut saved: Option<String> = None;
    loop {
        loop {
            match receiver.try_recv() {
                Ok(input) => {
                    state.apply(input)?;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if state.ended.is_none() {
                        state.apply(Input::End(Ok(())))?;
                    }
                    break;
                }
            }
        }
        if state.ended.is_some() && saved.is_none() {
            let note = state.finish(no_plot)?;
            state.log.push_back(format!("{note} — press q to quit"));
            saved = Some(note);
        }
        terminal.draw(|frame| draw(frame, state))?;
        if event::poll(Duration::from_millis(50))? {
            if let Event::Key(key) = event::read()? {
                let ctrl_c =
                    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                if key.kind == KeyEventKind::Press
                    && (ctrl_c || matches!(key.code, KeyCode::Char('q') | KeyCode::Esc))
                {
                    state.apply(Input::Interrupted)?;
                    break;
                }
            }
        }
    }
    match saved {
        Some(note) => Ok(note),
        None => state.finish(no_plot),
    }
}

fn draw(frame: &mut Frame<'_>, state: &State) {
    let [top, charts, bottom] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Min(10),
        Constraint::Length(10),
    ])
    .areas(frame.area());
    let latest = state.records.last().map_or_else(
        || "no epoch yet".to_owned(),
        |r| epoch_line(r, state.epochs),
    );
    let header = Paragraph::new(vec![
        Line::from(latest),
        Line::from(format!(
            "{} | {} | saving to {}",
            state.status,
            state.tally(),
            state.dir().display()
        )),
    ])
    .block(Block::bordered().title(format!(" tinytrain monitor: {} (q quits) ", state.source)));
    frame.render_widget(header, top);

    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    let regression =
        !state.records.is_empty() && state.records.iter().all(|r| r.train_acc.is_none());
    let series = |f: fn(&EpochRecord) -> Option<f32>| -> Vec<(f64, f64)> {
        state
            .records
            .iter()
            .filter_map(|r| {
                f(r).filter(|v| v.is_finite())
                    .map(|v| (f64::from(r.epoch), f64::from(v)))
            })
            .collect()
    };
    let (train_loss, val_loss) = (series(|r| Some(r.train_loss)), series(|r| r.val_loss));
    chart(frame, left, "loss", &train_loss, &val_loss);
    if regression {
        let (train, val) = (series(|r| r.train_mae), series(|r| r.val_mae));
        chart(frame, right, "MAE", &train, &val);
    } else {
        let (train, val) = (series(|r| r.train_acc), series(|r| r.val_acc));
        chart(frame, right, "accuracy", &train, &val);
    }

    let [events, log] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(bottom);
    let rows = usize::from(events.height.saturating_sub(2));
    let items: Vec<ListItem<'_>> = state
        .events
        .iter()
        .rev()
        .take(rows)
        .rev()
        .map(|n| ListItem::new(format!("epoch {}: {}", n.detected, n.event)))
        .collect();
    frame.render_widget(
        List::new(items)
            .style(Style::default().fg(Color::Yellow))
            .block(Block::bordered().title(" diagnosis ")),
        events,
    );
    let rows = usize::from(log.height.saturating_sub(2));
    let skip = state.log.len().saturating_sub(rows);
    let items: Vec<ListItem<'_>> = state
        .log
        .iter()
        .skip(skip)
        .map(|l| ListItem::new(l.as_str()))
        .collect();
    frame.render_widget(
        List::new(items).block(Block::bordered().title(" log ")),
        log,
    );
}

fn chart(frame: &mut Frame<'_>, area: Rect, title: &str, train: &[(f64, f64)], val: &[(f64, f64)]) {
    let all = train.iter().chain(val);
    let x_max = all.clone().map(|p| p.0).fold(1.0, f64::max);
    let (y_min, y_max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let (y_min, y_max) = if y_min.is_finite() {
        let pad = ((y_max - y_min) * 0.05).max(1e-6);
        (y_min - pad, y_max + pad)
    } else {
        (0.0, 1.0)
    };
    let dataset = |name: &'static str, color: Color, data| {
        Dataset::default()
            .name(name)
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(color))
            .data(data)
    };
    let datasets = vec![
        dataset("train", Color::Cyan, train),
        dataset("val", Color::Magenta, val),
    ];
    let widget = Chart::new(datasets)
        .block(Block::bordered().title(format!(" {title} ")))
        .x_axis(
            Axis::default()
                .title("epoch")
                .bounds([1.0, x_max.max(2.0)])
                .labels(["1".to_owned(), format!("{x_max:.0}")]),
        )
        .y_axis(
            Axis::default()
                .bounds([y_min, y_max])
                .labels([format!("{y_min:.3}"), format!("{y_max:.3}")]),
        );
    frame.render_widget(widget, area);
}
