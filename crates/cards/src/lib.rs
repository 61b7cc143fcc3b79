//! Print-ready login cards: a PDF of 8 cards per page (2 × 4) on A4 or US Letter, each with
//! the school, the learner's name and class, username, password, the sign-in address and a
//! QR code of it, with cut guides between the cards.
//!
//! The fonts (DejaVu Sans and DejaVu Sans Mono Bold, free to embed) are compiled in and
//! embedded as subsets, so the cards print the same everywhere and names in Latin, Greek or
//! Cyrillic script come out right; the PDF maps every glyph back to its character, so the
//! text can be searched and copied. Text that does not fit its line shrinks, and only as a
//! last resort is cut with an ellipsis. Characters the fonts lack print as the font's
//! placeholder box rather than failing the whole document.

use std::io::Cursor;

use printpdf::path::PaintMode;
use printpdf::{
    Color, IndirectFontRef, Line, LineDashPattern, Mm, PdfDocument, PdfLayerReference, Point, Rect,
    Rgb,
};

/// Cards on one page.
pub const CARDS_PER_PAGE: usize = 8;
const COLUMNS: usize = 2;
const ROWS: usize = 4;
/// Printers leave a few millimetres at the edge unprinted: stay well inside.
const MARGIN_MM: f32 = 10.0;
const PADDING_MM: f32 = 5.0;
/// A QR code smaller than about 20 mm is hard for a tablet camera held at arm's length.
const QR_MM: f32 = 24.0;
const PT_PER_MM: f32 = 72.0 / 25.4;

const SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const MONO: &[u8] = include_bytes!("../fonts/DejaVuSansMono-Bold.ttf");

/// One learner's card.
#[derive(Debug, Clone, Copy)]
pub struct Card<'a> {
    /// The learner's full name.
    pub name: &'a str,
    /// Their class.
    pub class: &'a str,
    /// Their username.
    pub username: &'a str,
    /// Their password; `None` when the learner set their own (nothing to print).
    pub password: Option<&'a str>,
    /// The school's sign-in address, printed.
    pub sign_in_url: &'a str,
    /// What the QR code opens.
    pub qr_url: &'a str,
}

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// 210 × 297 mm.
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Parses `a4` or `letter`, in any case.
    pub fn parse(s: &str) -> Result<Self, CardsError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a4" => Ok(Paper::A4),
            "letter" | "us-letter" => Ok(Paper::Letter),
            _ => Err(CardsError::UnknownPaper(s.to_owned())),
        }
    }

    /// The spelling `parse` reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }

    fn size_mm(self) -> (f32, f32) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::Letter => (215.9, 279.4),
        }
    }
}

/// Why cards could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CardsError {
    /// Nothing to print.
    #[error("there are no learners to make cards for")]
    NoCards,
    /// A paper size this crate does not know.
    #[error("unknown paper size {0:?}: use a4 or letter")]
    UnknownPaper(String),
    /// The PDF library failed.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// A font for drawing and for measuring text.
struct Font {
    pdf: IndirectFontRef,
    face: ttf_parser::Face<'static>,
}

impl Font {
    /// The width of `text` at `size` points, in millimetres.
    fn width_mm(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .unwrap_or(self.face.units_per_em()) as u32
            })
            .sum();
        units as f32 / f32::from(self.face.units_per_em()) * size / PT_PER_MM
    }

    /// `text` at the largest size from `size` down to `min` that fits `width`; cut with an
    /// ellipsis at `min` if even that is too wide.
    fn fit(&self, text: &str, mut size: f32, min: f32, width: f32) -> (String, f32) {
        while size > min && self.width_mm(text, size) > width {
            size -= 0.5;
        }
        if self.width_mm(text, size) <= width {
            return (text.to_owned(), size);
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let cut: String = chars.iter().collect::<String>() + "…";
            if self.width_mm(&cut, size) <= width {
                return (cut, size);
            }
        }
        ("…".to_owned(), size)
    }
}

/// Characters that would reorder or hide text (bidirectional overrides, zero-width marks)
/// are dropped: a card shows the name as written, never steered by hidden controls.
fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .collect()
}

fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

/// Renders the cards of `school_name` as a PDF.
pub fn render(school_name: &str, cards: &[Card<'_>], paper: Paper) -> Result<Vec<u8>, CardsError> {
    if cards.is_empty() {
        return Err(CardsError::NoCards);
    }
    let (page_w, page_h) = paper.size_mm();
    let (doc, first_page, first_layer) = PdfDocument::new(
        format!("Login cards — {}", printable(school_name)),
        Mm(page_w),
        Mm(page_h),
        "cards",
    );
    let pdf_err = |e: printpdf::Error| CardsError::Pdf(e.to_string());
    let load = |bytes: &'static [u8]| -> Result<Font, CardsError> {
        let pdf = doc
            .add_external_font_with_subsetting(Cursor::new(bytes), true)
            .map_err(pdf_err)?;
        let face = ttf_parser::Face::parse(bytes, 0).map_err(|e| CardsError::Pdf(e.to_string()))?;
        Ok(Font { pdf, face })
    };
    let sans = load(SANS)?;
    let mono = load(MONO)?;
    let card_w = (page_w - 2.0 * MARGIN_MM) / COLUMNS as f32;
    let card_h = (page_h - 2.0 * MARGIN_MM) / ROWS as f32;
    let school = printable(school_name);

    for (page_no, page_cards) in cards.chunks(CARDS_PER_PAGE).enumerate() {
        let layer = if page_no == 0 {
            doc.get_page(first_page).get_layer(first_layer)
        } else {
            let (page, layer) = doc.add_page(Mm(page_w), Mm(page_h), "cards");
            doc.get_page(page).get_layer(layer)
        };
        cut_guides(&layer, page_w, page_h, card_w, card_h);
        for (i, card) in page_cards.iter().enumerate() {
            let x = MARGIN_MM + (i % COLUMNS) as f32 * card_w;
            // Rows from the top of the page down.
            let y = page_h - MARGIN_MM - (i / COLUMNS + 1) as f32 * card_h;
            draw_card(&layer, &sans, &mono, &school, card, x, y, card_w, card_h)?;
        }
    }
    doc.save_to_bytes().map_err(pdf_err)
}

/// Thin dashed lines along every card edge, where the scissors go.
fn cut_guides(layer: &PdfLayerReference, page_w: f32, page_h: f32, card_w: f32, card_h: f32) {
    layer.set_outline_color(grey(0.7));
    layer.set_outline_thickness(0.3);
    layer.set_line_dash_pattern(LineDashPattern {
        dash_1: Some(3),
        gap_1: Some(2),
        ..Default::default()
    });
    let line = |x1: f32, y1: f32, x2: f32, y2: f32| Line {
        points: vec![
            (Point::new(Mm(x1), Mm(y1)), false),
            (Point::new(Mm(x2), Mm(y2)), false),
        ],
        is_closed: false,
    };
    for col in 0..=COLUMNS {
        let x = MARGIN_MM + col as f32 * card_w;
        layer.add_line(line(x, MARGIN_MM, x, page_h - MARGIN_MM));
    }
    for row in 0..=ROWS {
        let y = MARGIN_MM + row as f32 * card_h;
        layer.add_line(line(MARGIN_MM, y, page_w - MARGIN_MM, y));
    }
    let _ = page_w;
    layer.set_line_dash_pattern(LineDashPattern::default());
}

#[allow(clippy::too_many_arguments)]
fn draw_card(
    layer: &PdfLayerReference,
    sans: &Font,
    mono: &Font,
    school: &str,
    card: &Card<'_>,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
) -> Result<(), CardsError> {
    let left = x + PADDING_MM;
    let top = y + h - PADDING_MM;
    let text_w = w - 2.0 * PADDING_MM - QR_MM - 3.0;
    let full_w = w - 2.0 * PADDING_MM;
    let text =
        |text: &str, font: &Font, size: f32, min: f32, width: f32, at_y: f32, colour: f32| {
            let (shown, size) = font.fit(text, size, min, width);
            layer.set_fill_color(grey(colour));
            layer.use_text(shown, size, Mm(left), Mm(at_y), &font.pdf);
        };

    text(school, sans, 7.5, 5.0, full_w, top - 2.6, 0.4);
    let name = printable(card.name);
    text(&name, sans, 15.0, 8.0, full_w, top - 9.5, 0.0);
    text(
        &printable(card.class),
        sans,
        9.0,
        6.0,
        full_w,
        top - 14.5,
        0.35,
    );

    text("Username", sans, 7.0, 7.0, text_w, top - 21.0, 0.45);
    text(
        &printable(card.username),
        mono,
        13.0,
        7.0,
        text_w,
        top - 26.5,
        0.0,
    );
    text("Password", sans, 7.0, 7.0, text_w, top - 33.0, 0.45);
    match card.password {
        Some(password) => text(
            &printable(password),
            mono,
            13.0,
            7.0,
            text_w,
            top - 38.5,
            0.0,
        ),
        None => text(
            "Set by the learner",
            sans,
            10.0,
            7.0,
            text_w,
            top - 38.5,
            0.35,
        ),
    }
    text(
        "Sign in at",
        sans,
        7.0,
        7.0,
        full_w,
        y + PADDING_MM + 4.0,
        0.45,
    );
    text(
        &printable(card.sign_in_url),
        sans,
        8.5,
        5.0,
        full_w,
        y + PADDING_MM,
        0.1,
    );

    // The QR code, right of the username and password.
    let qr = qrcode::QrCode::new(card.qr_url.as_bytes())
        .map_err(|e| CardsError::Pdf(format!("the sign-in address does not fit a QR code: {e}")))?;
    let modules = qr.width();
    let colors = qr.to_colors();
    // Four modules of quiet zone around the code, as scanners expect.
    let module = QR_MM / (modules + 8) as f32;
    let qr_x = x + w - PADDING_MM - QR_MM + 4.0 * module;
    let qr_top = top - 16.5 - 4.0 * module;
    layer.set_fill_color(grey(0.0));
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if colors[row * modules + col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            // One rectangle per run of dark modules keeps the file small.
            let start = col;
            while col < modules && colors[row * modules + col] == qrcode::Color::Dark {
                col += 1;
            }
            let x1 = qr_x + start as f32 * module;
            let y2 = qr_top - row as f32 * module;
            layer.add_rect(
                Rect::new(
                    Mm(x1),
                    Mm(y2 - module),
                    Mm(qr_x + col as f32 * module),
                    Mm(y2),
                )
                .with_mode(PaintMode::Fill),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_sizes_parse_in_any_case_and_others_are_refused() {
        assert_eq!(Paper::parse("A4").unwrap(), Paper::A4);
        assert_eq!(Paper::parse(" letter ").unwrap(), Paper::Letter);
        assert!(
            Paper::parse("a5")
                .unwrap_err()
                .to_string()
                .contains("a4 or letter")
        );
    }

    #[test]
    fn no_cards_is_a_clear_error() {
        assert!(matches!(
            render("School", &[], Paper::A4),
            Err(CardsError::NoCards)
        ));
    }

    #[test]
    fn hidden_direction_controls_are_dropped_from_names() {
        assert_eq!(printable("Ann\u{202E}a\u{200B}"), "Anna");
    }
}
