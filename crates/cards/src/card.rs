//! One card in its cell of the sheet: the school, the learner's name and class, what they type
//! to sign in, where, and a QR code that opens it.
//!
//! Positions are in millimetres from the top left of the card's printable area, which sits
//! [`PADDING`] inside the cut lines. The layout fits the shorter US Letter cell (about
//! 98 × 65 mm); an A4 cell (95 × 69 mm) has a little more air between the name and the
//! sign-in details.

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::paint::Fill;
use krilla::surface::Surface;
use qrcode::QrCode;

use crate::Card;
use crate::text::Fonts;

/// Millimetres to points, PDF's unit.
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;
/// From the cut line to the text, so a slightly crooked cut does not touch it.
const PADDING: f32 = 5.0;
/// The side of the QR code without its quiet zone: comfortably over the 20 mm below which a
/// tablet's camera at arm's length struggles to read a code.
const QR_SIDE: f32 = 26.0;
/// Scanners look for a margin of four modules around a code with no ink in it.
const QR_QUIET_MODULES: f32 = 4.0;

/// Room for the address line under the QR code's quiet zone.
const ADDRESS_HEIGHT: f32 = 3.6;

/// How one kind of line in the sans face looks.
struct Look {
    /// The size in points the line starts at, and the least it shrinks to before it is cut.
    size: f32,
    min: f32,
    /// PDF grey level: 0 is black.
    grey: u8,
}

impl Look {
    const fn new(size: f32, min: f32, grey: u8) -> Self {
        Self { size, min, grey }
    }
}

const SCHOOL: Look = Look::new(7.5, 5.0, 100);
const NAME: Look = Look::new(16.0, 8.0, 0);
const CLASS: Look = Look::new(9.5, 6.0, 70);
const LABEL: Look = Look::new(7.0, 5.0, 100);
/// What the learner types, monospaced: large on one line, or when that would print it
/// smaller, over two lines. It is never cut unless nothing else fits: half a password is no use.
const TYPED: [(f32, f32); 2] = [(14.0, 5.0), (8.0, 5.0)];
const NOTE: Look = Look::new(10.0, 6.0, 70);
const ADDRESS: Look = Look::new(9.0, 5.0, 0);

/// Draws `card` in `cell` (in points), with `qr` the code of its `qr_url`.
pub(crate) fn draw(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    school: &str,
    card: &Card<'_>,
    qr: &QrCode,
    cell: Rect,
) {
    let width = cell.width() / PT_PER_MM - 2.0 * PADDING;
    let height = cell.height() / PT_PER_MM - 2.0 * PADDING;
    let mut pen = Pen {
        surface,
        fonts,
        origin: Point::from_xy(
            cell.left() + PADDING * PT_PER_MM,
            cell.top() + PADDING * PT_PER_MM,
        ),
    };

    pen.line(&SCHOOL, school, 2.8, width);
    pen.line(&NAME, card.name, 10.5, width);
    pen.line(&CLASS, card.class, 15.5, width);

    // The QR code sits in the bottom right corner: its quiet zone reaches into the padding
    // on the right and stays clear of the address line below it and the text left of it.
    let quiet = QR_QUIET_MODULES * QR_SIDE / qr.width() as f32;
    let qr_left = width - QR_SIDE;
    let qr_top = height - ADDRESS_HEIGHT - quiet - QR_SIDE;
    let column = qr_left - quiet - 1.0;

    // Username and password as a block beside the code, kept from the bottom so that both
    // paper sizes print it in the same place relative to the code.
    let block = height - 32.5;
    pen.line(&LABEL, "Username", block + 2.5, column);
    pen.typed(card.username, block + 6.7, column);
    pen.line(&LABEL, "Password", block + 15.0, column);
    match card.password {
        Some(password) => pen.typed(password, block + 19.2, column),
        None => pen.line(&NOTE, "Set by the learner", block + 20.6, column),
    }
    pen.line(&LABEL, "Sign in at", height - 4.8, column);
    pen.line(&ADDRESS, card.sign_in_url, height - 0.8, width);
    pen.qr_code(qr, qr_left, qr_top);
}

/// Draws on one card, in millimetres from the top left of its printable area.
struct Pen<'p, 's> {
    surface: &'p mut Surface<'s>,
    fonts: &'p Fonts,
    origin: Point,
}

impl Pen<'_, '_> {
    fn at(&self, x: f32, y: f32) -> Point {
        Point::from_xy(self.origin.x + x * PT_PER_MM, self.origin.y + y * PT_PER_MM)
    }

    /// `text` in the sans face from the left edge on the baseline `baseline`, at most
    /// `width` wide.
    fn line(&mut self, look: &Look, text: &str, baseline: f32, width: f32) {
        let sans = &self.fonts.sans;
        let line = sans.fit(text, look.size, look.min, width * PT_PER_MM);
        let at = self.at(0.0, baseline);
        sans.draw(self.surface, &line, at, look.grey);
    }

    /// `text` for typing, in black in the monospaced face, its lines centred on `middle`.
    fn typed(&mut self, text: &str, middle: f32, width: f32) {
        let mono = &self.fonts.mono;
        let lines = mono.fit_whole(text, &TYPED, width * PT_PER_MM);
        let Some(size) = lines.first().map(|line| line.size / PT_PER_MM) else {
            return;
        };
        // DejaVu Sans Mono's capitals and ascenders stand about 0.73 em above the baseline.
        let (cap, leading) = (0.73 * size, 1.15 * size);
        let height = cap + (lines.len() - 1) as f32 * leading;
        let first = middle - height / 2.0 + cap;
        for (i, line) in lines.iter().enumerate() {
            let at = self.at(0.0, first + i as f32 * leading);
            mono.draw(self.surface, line, at, 0);
        }
    }

    /// `qr`, [`QR_SIDE`] wide, with its top left corner at `(x, y)`.
    fn qr_code(&mut self, qr: &QrCode, x: f32, y: f32) {
        let at = self.at(x, y);
        qr_code(self.surface, qr, at, QR_SIDE * PT_PER_MM);
    }
}

/// Draws `qr` as one black path, `side` points wide, its top left corner at `at`.
pub(crate) fn qr_code(surface: &mut Surface<'_>, qr: &QrCode, at: Point, side: f32) {
    let width = qr.width();
    // Drawn in module units, scaled once: whole-number coordinates keep the page small.
    let mut path = PathBuilder::new();
    for (row, start, len) in dark_runs(qr) {
        if let Some(rect) = Rect::from_xywh(start as f32, row as f32, len as f32, 1.0) {
            path.push_rect(rect);
        }
    }
    let Some(path) = path.finish() else { return };
    let module = side / width as f32;
    surface.push_transform(&Transform::from_row(module, 0.0, 0.0, module, at.x, at.y));
    surface.set_fill(Some(Fill {
        paint: luma::Color::black().into(),
        ..Fill::default()
    }));
    surface.draw_path(&path);
    surface.pop();
}

/// The runs of dark modules of `qr`, row by row: `(row, first column, length)`. One
/// rectangle per run rather than one per module keeps a drawing small.
pub(crate) fn dark_runs(qr: &QrCode) -> Vec<(usize, usize, usize)> {
    let width = qr.width();
    let mut runs = Vec::new();
    for (row, line) in qr.to_colors().chunks(width).enumerate() {
        let mut col = 0;
        while col < width {
            if line[col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && line[col] == qrcode::Color::Dark {
                col += 1;
            }
            runs.push((row, start, col - start));
        }
    }
    runs
}
