//! Lines of text in the embedded fonts. Each line is shaped once and the same glyphs are both
//! measured and drawn, so a line that was measured to fit does fit. A line too wide for its
//! place shrinks down to a floor size, and only then loses its end to an ellipsis.

use krilla::color::luma;
use krilla::geom::Point;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};

use crate::error::{CardsError, Result};

const SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const MONO: &[u8] = include_bytes!("../fonts/DejaVuSansMono-Bold.ttf");

/// The two faces every card uses.
pub(crate) struct Fonts {
    /// DejaVu Sans, for names and labels.
    pub sans: Typeface,
    /// DejaVu Sans Mono Bold, for what a learner types: every character has its own shape
    /// (`l` `1` `I`, `0` `O`) and the same width, so a password can be read off letter by letter.
    pub mono: Typeface,
}

impl Fonts {
    pub fn load() -> Result<Self> {
        Ok(Self {
            sans: Typeface::load(SANS)?,
            mono: Typeface::load(MONO)?,
        })
    }
}

/// One font, as the PDF embeds it and as the shaper reads it.
pub(crate) struct Typeface {
    pdf: Font,
    shaper: rustybuzz::Face<'static>,
    /// Drawn for a character the font lacks, so the gap shows instead of vanishing.
    replacement: char,
}

impl Typeface {
    fn load(bytes: &'static [u8]) -> Result<Self> {
        let broken = || CardsError::Pdf("an embedded font could not be read".to_owned());
        let pdf = Font::new(bytes.into(), 0).ok_or_else(broken)?;
        let shaper = rustybuzz::Face::from_slice(bytes, 0).ok_or_else(broken)?;
        let replacement = if shaper.glyph_index('\u{FFFD}').is_some() {
            '\u{FFFD}'
        } else {
            '?'
        };
        Ok(Self {
            pdf,
            shaper,
            replacement,
        })
    }

    /// `text` as one line at `size` points, or smaller down to `min` points, no wider than
    /// `width` points; cut short with an ellipsis if it is too wide even at `min`.
    pub fn fit(&self, text: &str, size: f32, min: f32, width: f32) -> Line {
        let line = self.shape(self.printable(text));
        match line.size_to_fit(size, min, width) {
            Some(size) => line.at(size),
            None => self.shorten(&line.text, min, width),
        }
    }

    /// `text` whole, on the number of lines that prints it largest, each no wider than
    /// `width` points: `sizes[n]` is the largest and the least size in points for `n + 1`
    /// lines. Only text too long for all of them is cut, to one line at the last least size.
    /// For what a learner must type exactly, where a shortened line would be no use.
    pub fn fit_whole(&self, text: &str, sizes: &[(f32, f32)], width: f32) -> Vec<Line> {
        let text = self.printable(text);
        let chars: Vec<char> = text.chars().collect();
        let mut best: Option<(f32, Vec<Shaped>)> = None;
        for (n, (size, min)) in (1..).zip(sizes) {
            // Even breaks, as the text is a code rather than words.
            let lines: Vec<Shaped> = chars
                .chunks(chars.len().div_ceil(n).max(1))
                .map(|part| self.shape(part.iter().collect()))
                .collect();
            let fitted: Option<Vec<f32>> = lines
                .iter()
                .map(|line| line.size_to_fit(*size, *min, width))
                .collect();
            // One size for all the lines, so they read as one piece.
            let Some(common) = fitted.map(|f| f.into_iter().fold(*size, f32::min)) else {
                continue;
            };
            if best.as_ref().is_none_or(|(largest, _)| common > *largest) {
                best = Some((common, lines));
            }
        }
        match best {
            Some((size, lines)) => lines.into_iter().map(|line| line.at(size)).collect(),
            None => {
                let min = sizes.last().map_or(1.0, |(_, min)| *min);
                vec![self.shorten(&text, min, width)]
            }
        }
    }

    /// `text` broken at spaces into lines at `size` points, each no wider than `width`
    /// points; a word wider than a whole line gets a line of its own, shortened to fit.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<Line> {
        let text = self.printable(text);
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if self.shape(candidate.clone()).width_em * size <= width {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(self.fit(&current, size, size, width));
            }
            current = word.to_owned();
        }
        if !current.is_empty() {
            lines.push(self.fit(&current, size, size, width));
        }
        lines
    }

    /// The longest start of `text` that fits `width` points at `size` with an ellipsis.
    fn shorten(&self, text: &str, size: f32, width: f32) -> Line {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let (mut fits, mut too_long) = (0, chars.len());
        let mut best = self.shape("…".to_owned());
        while too_long - fits > 1 {
            let mid = (fits + too_long) / 2;
            let candidate = self.shape(format!("{}…", text[..chars[mid].0].trim_end()));
            if candidate.width_em * size <= width {
                fits = mid;
                best = candidate;
            } else {
                too_long = mid;
            }
        }
        best.at(size)
    }

    /// `text` without what would mislead or could not be drawn: control characters become
    /// spaces; invisible direction overrides and zero-width characters are dropped, so that
    /// the printed name reads in the order it was typed (a U+202E in a name would otherwise
    /// print it backwards); characters the font lacks become a visible replacement.
    fn printable(&self, text: &str) -> String {
        text.chars()
            .filter(|c| !is_invisible(*c))
            .map(|c| match c {
                c if c.is_control() => ' ',
                c if self.shaper.glyph_index(c).is_none() => self.replacement,
                c => c,
            })
            .collect()
    }

    fn shape(&self, text: String) -> Shaped {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(&text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&self.shaper, &[], buffer);
        let infos = shaped.glyph_infos();
        // The text behind each glyph runs from its cluster to the next cluster start, in
        // either direction: that is what lets a PDF reader copy the text back out.
        let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let em = self.shaper.units_per_em() as f32;
        let mut width_em = 0.0;
        let glyphs = infos
            .iter()
            .zip(shaped.glyph_positions())
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                let end = starts
                    .iter()
                    .find(|s| **s > start)
                    .copied()
                    .unwrap_or(text.len());
                width_em += pos.x_advance as f32 / em;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / em,
                    pos.x_offset as f32 / em,
                    pos.y_offset as f32 / em,
                    pos.y_advance as f32 / em,
                    start..end,
                    None,
                )
            })
            .collect();
        Shaped {
            text,
            glyphs,
            width_em,
        }
    }

    /// Draws `line` with its left end of the baseline at `at`, in grey `level` (0 is black).
    pub fn draw(&self, surface: &mut Surface<'_>, line: &Line, at: Point, level: u8) {
        surface.set_fill(Some(Fill {
            paint: luma::Color::new(level).into(),
            ..Fill::default()
        }));
        surface.draw_glyphs(
            at,
            &line.glyphs,
            self.pdf.clone(),
            &line.text,
            line.size,
            false,
        );
    }
}

/// Bidirectional controls, zero-width characters, variation selectors and the byte-order
/// mark: characters with no ink of their own.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
    )
}

struct Shaped {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    width_em: f32,
}

impl Shaped {
    /// The largest size from `size` down to `min` at which this fits `width`, if any.
    fn size_to_fit(&self, size: f32, min: f32, width: f32) -> Option<f32> {
        let largest = if self.width_em > 0.0 {
            size.min(width / self.width_em)
        } else {
            size
        };
        (largest >= min).then_some(largest)
    }

    fn at(self, size: f32) -> Line {
        Line {
            text: self.text,
            glyphs: self.glyphs,
            size,
        }
    }
}

/// Text shaped and sized for its place on a card.
pub(crate) struct Line {
    /// What the line shows, after replacements and any shortening.
    pub text: String,
    glyphs: Vec<KrillaGlyph>,
    /// In points.
    pub size: f32,
}

#[cfg(test)]
impl Line {
    /// In points.
    fn width(&self) -> f32 {
        self.glyphs.iter().map(|g| g.x_advance).sum::<f32>() * self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_text_keeps_every_word_and_fits_its_width() {
        let fonts = Fonts::load().unwrap();
        let text =
            "Type the username and password from the login card your child's teacher gave you.";
        let lines = fonts.sans.wrap(text, 11.0, 150.0);
        assert!(lines.len() > 2, "{}", lines.len());
        assert!(lines.iter().all(|l| l.width() <= 150.0 && l.size == 11.0));
        let joined: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(joined.join(" "), text);
    }

    #[test]
    fn a_line_that_fits_keeps_its_size() {
        let fonts = Fonts::load().unwrap();
        let line = fonts.sans.fit("Zoë Adams", 16.0, 8.0, 500.0);
        assert_eq!((line.text.as_str(), line.size), ("Zoë Adams", 16.0));
        assert!(line.width() < 500.0);
    }

    #[test]
    fn a_long_line_shrinks_before_it_is_shortened() {
        let fonts = Fonts::load().unwrap();
        let natural = fonts.sans.fit("Łukasz Kowalski", 16.0, 8.0, 1000.0).width();
        let shrunk = fonts.sans.fit("Łukasz Kowalski", 16.0, 8.0, natural * 0.75);
        assert_eq!(shrunk.text, "Łukasz Kowalski");
        assert!(shrunk.size < 16.0 && shrunk.size > 8.0);
        let cut = fonts.sans.fit("Łukasz Kowalski", 16.0, 8.0, natural * 0.4);
        assert!(
            cut.text.starts_with("Łukasz") && cut.text.ends_with('…'),
            "{}",
            cut.text
        );
        assert_eq!(cut.size, 8.0);
        assert!(cut.width() <= natural * 0.4);
    }

    #[test]
    fn hidden_direction_controls_are_dropped_and_missing_characters_replaced() {
        let fonts = Fonts::load().unwrap();
        assert_eq!(fonts.sans.printable("Ann\u{202E}a\u{200B}\tB"), "Anna B");
        assert_eq!(fonts.sans.printable("李 Ли"), "\u{FFFD} Ли");
    }

    const TYPED: [(f32, f32); 2] = [(14.0, 5.0), (8.0, 5.0)];

    #[test]
    fn a_typed_value_stays_on_one_line_while_that_prints_it_largest() {
        let fonts = Fonts::load().unwrap();
        let lines = fonts.mono.fit_whole("sunny-otter-42", &TYPED, 150.0);
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].text.as_str(), lines[0].size),
            ("sunny-otter-42", 14.0)
        );
        // 31 characters are about 8.0 points wide on one line and 8 on two: one line.
        let lines = fonts
            .mono
            .fit_whole("correct-horse-battery-staple-42", &TYPED, 150.0);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].width() <= 150.0);
    }

    #[test]
    fn a_long_typed_value_breaks_evenly_over_two_lines_and_keeps_every_character() {
        let fonts = Fonts::load().unwrap();
        let username = "maximilian.alexander.wolfeschlegelsteinhausen.bergerdorff.hohenz";
        let lines = fonts.mono.fit_whole(username, &TYPED, 150.0);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text.len(), 32);
        assert_eq!(format!("{}{}", lines[0].text, lines[1].text), username);
        assert_eq!(lines[0].size, lines[1].size);
        assert!(lines.iter().all(|line| line.width() <= 150.0));
    }

    #[test]
    fn a_typed_value_too_long_for_two_lines_is_cut_as_a_last_resort() {
        let fonts = Fonts::load().unwrap();
        let lines = fonts.mono.fit_whole(&"x".repeat(300), &TYPED, 150.0);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].text.ends_with('…') && lines[0].width() <= 150.0);
        assert!(
            fonts
                .mono
                .fit_whole("", &TYPED, 150.0)
                .iter()
                .all(|l| l.text.is_empty())
        );
    }
}
