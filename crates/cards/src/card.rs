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
/// The side of the QR code without its quiet zone. Phone cameras read a code this size from
/// a card held at arm's length; under about 20 mm they need to come close and refocus.
const QR_SIDE: f32 = 26.0;
/// Scanners look for a margin of four modules around a code with no ink in it.
const QR_QUIET_MODULES: f32 = 4.0;

/// Black, and the greys of labels and secondary text (PDF grey levels, 0 is black).
const INK: u8 = 0;
const SECONDARY: u8 = 70;
const LABEL: u8 = 100;

/// Draws `card` in `cell` (in points), with `qr` the code of its `qr_url`.
pub(crate) fn draw(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    school: &str,
    card: &Card<'_>,
    qr: &QrCode,
    cell: Rect,
) {
    let inner_w = cell.width() / PT_PER_MM - 2.0 * PADDING;
    let inner_h = cell.height() / PT_PER_MM - 2.0 * PADDING;
    let mut text = |font: &crate::text::Typeface,
                    content: &str,
                    (size, min): (f32, f32),
                    width_mm: f32,
                    (x, baseline): (f32, f32),
                    level: u8| {
        let line = font.fit(content, size, min, width_mm * PT_PER_MM);
        let at = Point::from_xy(
            cell.left() + (PADDING + x) * PT_PER_MM,
            cell.top() + (PADDING + baseline) * PT_PER_MM,
        );
        font.draw(surface, &line, at, level);
    };

    let (sans, mono) = (&fonts.sans, &fonts.mono);
    text(sans, school, (7.5, 5.0), inner_w, (0.0, 2.8), LABEL);
    text(sans, card.name, (16.0, 8.0), inner_w, (0.0, 10.5), INK);
    text(
        sans,
        card.class,
        (9.5, 6.0),
        inner_w,
        (0.0, 15.5),
        SECONDARY,
    );

    // The QR code sits in the bottom right corner; its quiet zone reaches into the padding on
    // the right and clears the address line below it.
    let modules = qr.width() as f32;
    let quiet = QR_QUIET_MODULES * QR_SIDE / modules;
    let address_height = 3.6;
    let qr_left = inner_w - QR_SIDE;
    let qr_top = inner_h - address_height - quiet - QR_SIDE;

    // Username and password left of the code, as a block that starts level with it.
    let column = qr_left - quiet - 1.0;
    let block = inner_h - 32.5;
    text(
        sans,
        "Username",
        (7.0, 5.0),
        column,
        (0.0, block + 2.5),
        LABEL,
    );
    text(
        mono,
        card.username,
        (14.0, 7.0),
        column,
        (0.0, block + 8.5),
        INK,
    );
    text(
        sans,
        "Password",
        (7.0, 5.0),
        column,
        (0.0, block + 15.0),
        LABEL,
    );
    match card.password {
        Some(password) => text(
            mono,
            password,
            (14.0, 7.0),
            column,
            (0.0, block + 21.0),
            INK,
        ),
        None => text(
            sans,
            "Set by the learner",
            (10.0, 6.0),
            column,
            (0.0, block + 20.6),
            SECONDARY,
        ),
    }
    text(
        sans,
        "Sign in at",
        (7.0, 5.0),
        column,
        (0.0, inner_h - 4.8),
        LABEL,
    );
    text(
        sans,
        card.sign_in_url,
        (9.0, 5.0),
        inner_w,
        (0.0, inner_h - 0.8),
        INK,
    );

    qr_code(
        surface,
        qr,
        Point::from_xy(
            cell.left() + (PADDING + qr_left) * PT_PER_MM,
            cell.top() + (PADDING + qr_top) * PT_PER_MM,
        ),
        QR_SIDE * PT_PER_MM,
    );
}

/// Draws `qr` as one black path, `side` points wide, its top left corner at `at`.
fn qr_code(surface: &mut Surface<'_>, qr: &QrCode, at: Point, side: f32) {
    let width = qr.width();
    let colors = qr.to_colors();
    // Drawn in module units, scaled once: whole-number coordinates keep the page small.
    let mut path = PathBuilder::new();
    for (row, line) in colors.chunks(width).enumerate() {
        let mut col = 0;
        while col < width {
            if line[col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            // One rectangle per run of dark modules rather than one per module.
            let start = col;
            while col < width && line[col] == qrcode::Color::Dark {
                col += 1;
            }
            if let Some(rect) = Rect::from_xywh(start as f32, row as f32, (col - start) as f32, 1.0)
            {
                path.push_rect(rect);
            }
        }
    }
    let Some(path) = path.finish() else { return };
    let module = side / width as f32;
    surface.push_transform(&Transform::from_row(module, 0.0, 0.0, module, at.x, at.y));
    surface.set_fill(Some(Fill {
        paint: luma::Color::new(INK).into(),
        ..Fill::default()
    }));
    surface.draw_path(&path);
    surface.pop();
}
