//! "How to sign in": one printable page for parents, with the school's sign-in address in
//! large type, a QR code that opens it, and what to do when a username or password is
//! forgotten. The sentences come from the caller (the server keeps every sentence of its
//! pages in one place, for translation); this module lays them out.

use krilla::Document;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use qrcode::QrCode;

use crate::card::{PT_PER_MM, dark_runs, qr_code};
use crate::error::{CardsError, Result};
use crate::text::Fonts;
use crate::{MARGIN, Paper};

/// A heading and the paragraphs under it.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    pub heading: &'a str,
    pub paragraphs: &'a [&'a str],
}

/// What the sheet says.
#[derive(Debug, Clone, Copy)]
pub struct Instructions<'a> {
    /// The school's name, at the top.
    pub school: &'a str,
    /// The sheet's title ("How to sign in").
    pub title: &'a str,
    /// The sentence before the address.
    pub intro: &'a str,
    /// The school's sign-in address: printed for typing, and as the QR code.
    pub sign_in_url: &'a str,
    /// What to do, under headings.
    pub sections: &'a [Section<'a>],
    /// For one learner: a line naming them, and their username (never a password).
    pub learner: Option<(&'a str, &'a str)>,
}

/// The QR code's side: large enough for any phone camera across a kitchen table.
const QR_SIDE: f32 = 45.0 * PT_PER_MM;

/// Renders the sheet as a one-page PDF.
///
/// Fails when the address is too long for a QR code, or the sheet does not fit.
pub fn render_instructions(sheet: &Instructions<'_>, paper: Paper) -> Result<Vec<u8>> {
    render_instruction_pages(std::slice::from_ref(sheet), paper)
}

/// Renders each sheet as a page of one PDF (one page per learner, say).
///
/// Fails when there are no sheets, when an address is too long for a QR code, or when a
/// sheet does not fit on its page.
pub fn render_instruction_pages(sheets: &[Instructions<'_>], paper: Paper) -> Result<Vec<u8>> {
    let Some(first) = sheets.first() else {
        return Err(CardsError::Pdf("there is no sheet to print".to_owned()));
    };
    let fonts = Fonts::load()?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("{} – {}", first.title, first.school))
            .creator("ClassKeys".to_owned()),
    );
    for sheet in sheets {
        draw_page(&mut document, &fonts, sheet, paper)?;
    }
    document
        .finish()
        .map_err(|e| CardsError::Pdf(e.to_string()))
}

fn draw_page(
    document: &mut Document,
    fonts: &Fonts,
    sheet: &Instructions<'_>,
    paper: Paper,
) -> Result<()> {
    let qr = QrCode::new(sheet.sign_in_url.as_bytes())
        .map_err(|_| CardsError::LinkTooLong(sheet.sign_in_url.len()))?;
    let (page_w, page_h) = paper.size();
    let margin = MARGIN * 1.5;
    let width = page_w - 2.0 * margin;
    let settings = PageSettings::from_wh(page_w, page_h)
        .ok_or_else(|| CardsError::Pdf("the page size is not valid".to_owned()))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let mut y = margin;
    let put = |surface: &mut krilla::surface::Surface<'_>,
               text: &str,
               size: f32,
               grey: u8,
               mono: bool,
               y: &mut f32| {
        let face = if mono { &fonts.mono } else { &fonts.sans };
        let lines = if mono {
            vec![face.fit(text, size, size * 0.5, width)]
        } else {
            face.wrap(text, size, width)
        };
        for line in lines {
            *y += line.size * 1.25;
            face.draw(surface, &line, Point::from_xy(margin, *y), grey);
        }
    };

    put(&mut surface, sheet.school, 12.0, 90, false, &mut y);
    y += 4.0;
    put(&mut surface, sheet.title, 26.0, 0, false, &mut y);
    if let Some((who, username)) = sheet.learner {
        y += 8.0;
        put(&mut surface, who, 13.0, 0, false, &mut y);
        y += 2.0;
        put(&mut surface, username, 20.0, 0, true, &mut y);
    }
    y += 10.0;
    put(&mut surface, sheet.intro, 12.0, 0, false, &mut y);
    y += 6.0;
    put(&mut surface, sheet.sign_in_url, 16.0, 0, true, &mut y);
    y += 10.0;
    // The code's quiet zone is the white paper around it.
    qr_code(&mut surface, &qr, Point::from_xy(margin, y), QR_SIDE);
    y += QR_SIDE + 8.0;
    for section in sheet.sections {
        y += 8.0;
        put(&mut surface, section.heading, 14.0, 0, false, &mut y);
        for paragraph in section.paragraphs {
            y += 3.0;
            put(&mut surface, paragraph, 11.0, 40, false, &mut y);
        }
    }
    // A page that ran out of room would print cut off: better refuse than mislead.
    if y > page_h - margin {
        return Err(CardsError::Pdf(
            "the instructions do not fit on one page".to_owned(),
        ));
    }
    surface.finish();
    page.finish();
    Ok(())
}

/// `text` as a QR code in SVG, for a web page: black modules on white, with the quiet zone
/// scanners need, scaling to any size without blur.
pub fn qr_svg(text: &str) -> Result<String> {
    let qr = QrCode::new(text.as_bytes()).map_err(|_| CardsError::LinkTooLong(text.len()))?;
    let width = qr.width();
    let quiet = 4;
    let side = width + 2 * quiet;
    let mut path = String::new();
    for (row, start, len) in dark_runs(&qr) {
        path.push_str(&format!(
            "M{} {}h{len}v1h-{len}z",
            start + quiet,
            row + quiet
        ));
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}
