//! `tinytrain ports`: the serial ports this machine has, so a user can find the board to pass to
//! `monitor --serial` (or `train --device` on a serial board) — serialport's `available_ports()`
//! (on Linux without libudev: a scan of `/sys/class/tty`), with the USB identity of each USB port.
//! A Unix socket (QEMU's `-serial unix:PATH,server=on`) works as `--serial` too, but is no port and
//! is not listed.

use std::fmt::Write as _;

use anyhow::Context;
use serialport::{SerialPortInfo, SerialPortType};

/// What is said when no port is found: where boards usually appear and why one may not.
pub const NONE_FOUND: &str = "no serial ports found";

/// A USB port's identity (the fields of serialport's `UsbPortInfo` that every build has).
#[derive(Clone, Copy, Debug)]
pub struct Usb<'a> {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// The device's serial number, if it reports one.
    pub serial_number: Option<&'a str>,
    /// The maker, if reported.
    pub manufacturer: Option<&'a str>,
    /// The product's name, if reported.
    pub product: Option<&'a str>,
}

/// How a port is attached.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    /// USB, with its identity.
    Usb(Usb<'a>),
    /// PCI (a permanent port).
    Pci,
    /// Bluetooth (`rfcomm`).
    Bluetooth,
    /// Anything else: a built-in UART, or not known.
    Other,
}

/// One serial port.
#[derive(Clone, Copy, Debug)]
pub struct Port<'a> {
    /// The name to open (`/dev/ttyACM0`, `COM3`).
    pub name: &'a str,
    /// How it is attached.
    pub kind: Kind<'a>,
}

impl<'a> From<&'a SerialPortInfo> for Port<'a> {
    fn from(info: &'a SerialPortInfo) -> Self {
        let kind = match &info.port_type {
            SerialPortType::UsbPort(usb) => Kind::Usb(Usb {
                vid: usb.vid,
                pid: usb.pid,
                serial_number: usb.serial_number.as_deref(),
                manufacturer: usb.manufacturer.as_deref(),
                product: usb.product.as_deref(),
            }),
            SerialPortType::PciPort => Kind::Pci,
            SerialPortType::BluetoothPort => Kind::Bluetooth,
            SerialPortType::Unknown => Kind::Other,
        };
        Self {
            name: &info.port_name,
            kind,
        }
    }
}

impl Port<'_> {
    /// The port's line: its name, how it is attached, and for USB `VID:PID`, maker and product,
    /// serial number — e.g. `/dev/ttyACM0   USB 0483:374b  STMicroelectronics STM32 STLink  serial 066DFF…`.
    pub fn line(&self) -> String {
        let kind = match self.kind {
            Kind::Usb(_) => "USB",
            Kind::Pci => "PCI",
            Kind::Bluetooth => "Bluetooth",
            Kind::Other => "built-in or unknown",
        };
        let mut text = format!("{:<14} {kind}", self.name);
        if let Kind::Usb(usb) = self.kind {
            let _ = write!(text, " {:04x}:{:04x}", usb.vid, usb.pid);
            let named: Vec<&str> = [usb.manufacturer, usb.product]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
            if !named.is_empty() {
                let _ = write!(text, "  {}", named.join(" "));
            }
            if let Some(serial) = usb.serial_number.filter(|s| !s.is_empty()) {
                let _ = write!(text, "  serial {serial}");
            }
        }
        text
    }
}

/// The listing of `ports` (any order; sorted by name here) and how to watch one, or the message
/// and hints when there are none.
pub fn listing(ports: &[Port<'_>]) -> String {
    if ports.is_empty() {
        return format!(
            "{NONE_FOUND}.\n\
             Is the board plugged in, with a data cable (a charge-only cable shows no port)? On Linux\n\
             a board appears as /dev/ttyACM* (USB CDC) or /dev/ttyUSB* (a USB-serial bridge); if it\n\
             does but cannot be opened, join the port's group (dialout on Debian and Ubuntu, uucp on\n\
             Arch: sudo usermod -aG dialout $USER, then log in again). In a container or VM the USB\n\
             device must be passed through. A Unix socket works as monitor --serial without a port.\n"
        );
    }
    let mut ports = ports.to_vec();
    ports.sort_by(|a, b| a.name.cmp(b.name));
    let mut text = String::new();
    for port in &ports {
        text.push_str(&port.line());
        text.push('\n');
    }
    // A board is a USB port, far more often than not.
    let usb = ports.iter().find(|p| matches!(p.kind, Kind::Usb(_)));
    let _ = writeln!(
        text,
        "\nWatch one with: tinytrain monitor --serial {} (\"Permission denied\" means joining the \
         port's group, e.g. dialout)",
        usb.unwrap_or(&ports[0]).name
    );
    if usb.is_none() {
        text.push_str(
            "None of them is USB: a board on USB is not plugged in (or has a charge-only cable), \
             or is not visible here (a container or VM needs the device passed through).\n",
        );
    }
    text
}

/// Runs `tinytrain ports`.
pub fn execute() -> anyhow::Result<()> {
    // serialport's scan without libudev panics when there is no sysfs (some containers).
    #[cfg(target_os = "linux")]
    if !std::path::Path::new("/sys/class/tty").is_dir() {
        anyhow::bail!("cannot list serial ports: /sys/class/tty is missing (is sysfs mounted?)");
    }
    let ports = serialport::available_ports().context("cannot list serial ports")?;
    let ports: Vec<Port<'_>> = ports.iter().map(Port::from).collect();
    print!("{}", listing(&ports));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STLINK: Usb<'static> = Usb {
        vid: 0x0483,
        pid: 0x374b,
        serial_number: Some("066DFF485057717867203721"),
        manufacturer: Some("STMicroelectronics"),
        product: Some("STM32 STLink"),
    };

    fn port(name: &'static str, kind: Kind<'static>) -> Port<'static> {
        Port { name, kind }
    }

    #[test]
    fn a_usb_port_shows_its_identity() {
        assert_eq!(
            port("/dev/ttyACM0", Kind::Usb(STLINK)).line(),
            "/dev/ttyACM0   USB 0483:374b  STMicroelectronics STM32 STLink  serial 066DFF485057717867203721"
        );
        let bare = Usb {
            serial_number: None,
            manufacturer: None,
            product: Some(""),
            ..STLINK
        };
        assert_eq!(
            port("/dev/ttyUSB0", Kind::Usb(bare)).line(),
            "/dev/ttyUSB0   USB 0483:374b"
        );
        assert_eq!(port("/dev/ttyS0", Kind::Pci).line(), "/dev/ttyS0     PCI");
    }

    #[test]
    fn listing_sorts_and_points_to_monitor_or_says_there_are_none() {
        let text = listing(&[
            port("/dev/ttyS0", Kind::Other),
            port("/dev/rfcomm0", Kind::Bluetooth),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "/dev/rfcomm0   Bluetooth");
        assert_eq!(lines[1], "/dev/ttyS0     built-in or unknown");
        assert!(lines[3].starts_with("Watch one with: tinytrain monitor --serial /dev/rfcomm0 "));
        assert!(lines[4].starts_with("None of them is USB"), "{text}");

        // A USB port is the one suggested, and then there is no such note.
        let text = listing(&[
            port("/dev/ttyS0", Kind::Other),
            port("/dev/ttyACM0", Kind::Usb(STLINK)),
        ]);
        assert!(
            text.contains("--serial /dev/ttyACM0 ") && !text.contains("None of them"),
            "{text}"
        );

        let none = listing(&[]);
        assert!(none.starts_with("no serial ports found."), "{none}");
        assert!(
            none.contains("dialout") && none.contains("plugged in"),
            "{none}"
        );
    }
}
