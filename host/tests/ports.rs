//! `tinytrain ports` on this machine: it runs, exits 0, and either lists ports (each by its path,
//! then how to watch one) or says there are none with the hints — whichever this machine has.

use std::process::Command;

#[test]
fn ports_lists_the_ports_or_says_there_are_none() {
    let output = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .arg("ports")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}: {stdout}{stderr}",
        output.status
    );
    if stdout.starts_with("no serial ports found.") {
        assert!(
            stdout.contains("plugged in") && stdout.contains("dialout"),
            "{stdout}"
        );
        return;
    }
    let (ports, hint) = stdout
        .split_once("\n\n")
        .expect("ports, a blank line, the hint");
    assert!(
        ports
            .lines()
            .all(|l| l.starts_with('/') || l.starts_with("COM")),
        "{stdout}"
    );
    assert!(
        hint.starts_with("Watch one with: tinytrain monitor --serial "),
        "{stdout}"
    );
}
