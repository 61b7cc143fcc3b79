//! Print-ready login cards, and the parents' "how to sign in" sheet
//! ([`render_instructions`]).
//!
//! Login cards: a PDF with 8 cards per page (2 columns × 4 rows) on A4 or US
//! Letter, each with the school, the learner's name and class, their username and password,
//! the school's sign-in address and a QR code that opens it, and dashed cut lines between the
//! cards.
//!
//! Invariants a teacher relies on:
//! - The fonts (DejaVu Sans and DejaVu Sans Mono Bold) are compiled in and embedded as
//!   subsets, so a sheet prints the same on every computer, and names in any Latin, Greek or
//!   Cyrillic script come out right. Each glyph maps back to its text, so the PDF can be
//!   searched and copied from.
//! - Nothing spills into the next card: a line too long for its place shrinks, and as a last
//!   resort is shortened with an ellipsis. A username or password is not shortened while it
//!   fits over two lines, as a card with half a password is no use.
//! - A [`Card`] never prints its password in logs: its `Debug` hides it.
//! - Any text prints as text. Characters the fonts lack print as a replacement mark; invisible
//!   direction overrides are dropped, so a name never prints in an order other than typed.
//! - Everything sits at least 10 mm inside the sheet's edge, which every printer can reach.

mod card;
mod error;
mod instructions;
mod text;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Stroke, StrokeDash};
use krilla::surface::Surface;
use qrcode::QrCode;

use crate::card::PT_PER_MM;
pub use crate::error::{CardsError, Result};
pub use crate::instructions::{
    Instructions, Section, qr_svg, render_instruction_pages, render_instructions,
};
use classkeys_protocol::credentials::AccessCodes;

/// Cards on one page: 2 columns × 4 rows.
pub const CARDS_PER_PAGE: usize = COLUMNS * ROWS;
const COLUMNS: usize = 2;
const ROWS: usize = 4;
/// Printers leave 3–6 mm at the sheet's edge unprinted; 10 mm is safe on all of them.
const MARGIN: f32 = 10.0 * PT_PER_MM;

/// What one learner's card shows.
#[derive(Clone, Copy)]
pub struct Card<'a> {
    /// The learner's full name, in any script.
    pub name: &'a str,
    /// The class's name.
    pub class: &'a str,
    /// What the learner types as their username.
    pub username: &'a str,
    /// Their password, or `None` when the learner chose their own: the card then says
    /// "Set by the learner".
    pub password: Option<&'a str>,
    /// The school's sign-in address, printed for typing.
    pub sign_in_url: &'a str,
    /// What the QR code opens, usually the sign-in address.
    pub qr_url: &'a str,
}

impl std::fmt::Debug for Card<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("name", &self.name)
            .field("class", &self.class)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| "<hidden>"))
            .field("sign_in_url", &self.sign_in_url)
            .field("qr_url", &self.qr_url)
            .finish()
    }
}

/// Paper size of the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Reads `a4` or `letter`, in any case.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a4" => Ok(Paper::A4),
            "letter" | "us-letter" => Ok(Paper::Letter),
            _ => Err(CardsError::UnknownPaper(s.to_owned())),
        }
    }

    /// The name [`Paper::parse`] reads: `a4` or `letter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }

    /// Width and height in points.
    fn size(self) -> (f32, f32) {
        match self {
            Paper::A4 => (210.0 * PT_PER_MM, 297.0 * PT_PER_MM),
            Paper::Letter => (8.5 * 72.0, 11.0 * 72.0),
        }
    }
}

/// Renders `cards` for the school `school_name` as a PDF, [`CARDS_PER_PAGE`] to a page in
/// the order given.
///
/// Fails only when there are no cards or a `qr_url` is too long for any QR code.
pub fn render(school_name: &str, cards: &[Card<'_>], paper: Paper) -> Result<Vec<u8>> {
    if cards.is_empty() {
        return Err(CardsError::NoCards);
    }
    // A class usually shares one address: encode each distinct one once.
    let mut codes: HashMap<&str, QrCode> = HashMap::new();
    for card in cards {
        if let Entry::Vacant(slot) = codes.entry(card.qr_url) {
            let code = QrCode::new(card.qr_url.as_bytes())
                .map_err(|_| CardsError::LinkTooLong(card.qr_url.len()))?;
            slot.insert(code);
        }
    }
    let fonts = text::Fonts::load()?;
    let (page_w, page_h) = paper.size();
    let cell_w = (page_w - 2.0 * MARGIN) / COLUMNS as f32;
    let cell_h = (page_h - 2.0 * MARGIN) / ROWS as f32;

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("Login cards – {school_name}"))
            .creator("ClassKeys".to_owned()),
    );
    for page_cards in cards.chunks(CARDS_PER_PAGE) {
        let settings = PageSettings::from_wh(page_w, page_h).ok_or_else(|| bug("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for (i, card) in page_cards.iter().enumerate() {
            let cell = Rect::from_xywh(
                MARGIN + (i % COLUMNS) as f32 * cell_w,
                MARGIN + (i / COLUMNS) as f32 * cell_h,
                cell_w,
                cell_h,
            )
            .ok_or_else(|| bug("card size"))?;
            card::draw(
                &mut surface,
                &fonts,
                school_name,
                card,
                &codes[card.qr_url],
                cell,
            );
        }
        cut_lines(&mut surface, page_w, page_h, cell_w, cell_h);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| CardsError::Pdf(e.to_string()))
}

fn bug(what: &str) -> CardsError {
    CardsError::Pdf(format!("the {what} is not a valid rectangle"))
}

/// Light dashed lines along every edge of every card, where the scissors go. They are drawn
/// on full pages and partly filled ones alike, so a guillotine can cut a stack in one go.
fn cut_lines(surface: &mut Surface<'_>, page_w: f32, page_h: f32, cell_w: f32, cell_h: f32) {
    let mut path = PathBuilder::new();
    for col in 0..=COLUMNS {
        let x = MARGIN + col as f32 * cell_w;
        path.move_to(x, MARGIN);
        path.line_to(x, page_h - MARGIN);
    }
    for row in 0..=ROWS {
        let y = MARGIN + row as f32 * cell_h;
        path.move_to(MARGIN, y);
        path.line_to(page_w - MARGIN, y);
    }
    let Some(path) = path.finish() else { return };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: luma::Color::new(150).into(),
        width: 0.5,
        dash: Some(StrokeDash {
            array: vec![4.0, 3.0],
            offset: 0.0,
        }),
        ..Stroke::default()
    }));
    surface.draw_path(&path);
    surface.set_stroke(None);
}

/// The login cards of access codes as the server answers them for printing: one card per
/// learner, the code's class (or none), the sign-in address as text and as the QR code.
pub fn render_codes(codes: &AccessCodes, paper: Paper) -> Result<Vec<u8>> {
    let names: Vec<String> = codes
        .codes
        .iter()
        .map(|c| format!("{} {}", c.given_name, c.family_name))
        .collect();
    let class = codes.class_name.as_deref().unwrap_or_default();
    let cards: Vec<Card<'_>> = codes
        .codes
        .iter()
        .zip(&names)
        .map(|(code, name)| Card {
            name,
            class,
            username: &code.username,
            password: code.password.as_deref(),
            sign_in_url: &codes.sign_in_url,
            qr_url: &codes.sign_in_url,
        })
        .collect();
    render(&codes.school_name, &cards, paper)
}
