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
