//! How the firmware is started in `qemu-system-arm`, stated once for `monitor --qemu`, `train
//! --experiment`'s tests and every QEMU test.

use std::path::Path;
use std::process::{Command, Stdio};

/// `qemu-system-arm` running `elf` on `machine`, the UART on `serial` (a `-serial` argument such as
/// `pty`, `file:uart.txt` or `unix:PATH,server=on,wait=on`), semihosting on stdout (defmt's bytes)
/// and an exact instruction count (`-icount shift=0`: SysTick counts instructions). No display and
/// no QEMU monitor, so stdout carries only the firmware's bytes; stdin closed, stdout and stderr
/// piped (override them with the `Command`'s own methods).
pub fn command(machine: &str, elf: &Path, serial: &str) -> Command {
    let mut qemu = Command::new("qemu-system-arm");
    qemu.args(["-machine", machine, "-display", "none", "-monitor", "none"])
        .args(["-serial", serial])
        .args(["-semihosting-config", "enable=on,target=native"])
        .args(["-icount", "shift=0", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    qemu
}

/// `elf` on `machine` with its UART on a new pseudo-terminal (`-serial pty`): QEMU, and the
/// pty's path, which QEMU names on stderr ("char device redirected to /dev/pts/N"). Both of
/// QEMU's outputs are drained on threads from then on (stdout carries the defmt bytes). Whatever
/// the firmware writes before a program opens the pty is lost.
pub fn on_a_pty(machine: &str, elf: &Path) -> std::io::Result<(std::process::Child, String)> {
    use std::io::{BufRead, BufReader, Read};
    let mut child = command(machine, elf, "pty").spawn()?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let pipes: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    for pipe in pipes.into_iter().flatten() {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line);
                if let Some((_, rest)) = text.split_once("char device redirected to ") {
                    let path = rest.split_whitespace().next().unwrap_or_default();
                    let _ = sender.send(path.to_owned());
                }
                line.clear();
            }
        });
    }
    match receiver.recv_timeout(std::time::Duration::from_secs(30)) {
        Ok(path) if path.starts_with("/dev/") => Ok((child, path)),
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            Err(std::io::Error::other(format!(
                "QEMU did not name its pty ({outcome:?})"
            )))
        }
    }
}
