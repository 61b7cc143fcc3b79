//! Login cards checked as a reader, a printer and a phone would: `pdftotext` reads back every
//! name (in any script), username and password; `pdfinfo` gives the page count and paper
//! size; a page rendered by `pdftoppm` is white paper with ink in each of its eight cards and
//! no text across a cut line; and `zbarimg` reads each card's QR code.
//!
//! Needs the Debian packages poppler-utils and zbar-tools; a test fails, naming the package,
//! when one is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use classkeys_cards::{
    CARDS_PER_PAGE, Card, CardsError, Instructions, Paper, Section, qr_svg, render,
    render_instruction_pages, render_instructions,
};

const SIGN_IN: &str = "https://keys.demo-primary.example/s/demo/sign-in";
const SCHOOL: &str = "Demo Primary";

/// Names from every script the cards promise, and ones that try to be more than text.
const NAMES: [&str; 10] = [
    "Zoë Adams",
    "Łukasz Kowalski",
    "Αλέξανδρος Παπαδόπουλος",
    "Анастасия Смирнова",
    "Nguyễn Thị Hà",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://x\")",
    "Søren Øberg-Žák",
    "Ñuño Őry Ąnna",
    "Ann\u{202E}ekim",
];

/// A class of learners whose cards the tests print.
struct Class {
    learners: Vec<Learner>,
}

struct Learner {
    name: String,
    username: String,
    password: Option<String>,
    qr_url: String,
}

impl Class {
    /// `count` learners named from [`NAMES`]; the second chose their own password. Passwords
    /// mix `I l 1 O 0`, which a card must keep apart.
    fn new(count: usize) -> Self {
        let learners = (0..count)
            .map(|i| Learner {
                name: NAMES[i % NAMES.len()].to_owned(),
                username: format!("learner.{i:02}"),
                password: (i != 1).then(|| format!("Il1O0-otter-{i:02}")),
                qr_url: format!("{SIGN_IN}?u=learner.{i:02}"),
            })
            .collect();
        Self { learners }
    }

    fn cards(&self) -> Vec<Card<'_>> {
        self.learners
            .iter()
            .map(|l| Card {
                name: &l.name,
                class: "3 Badgers",
                username: &l.username,
                password: l.password.as_deref(),
                sign_in_url: SIGN_IN,
                qr_url: &l.qr_url,
            })
            .collect()
    }

    fn pdf(&self, paper: Paper) -> Vec<u8> {
        render(SCHOOL, &self.cards(), paper).unwrap()
    }
}

/// Runs `tool` from the Debian package `package` and returns what it printed.
fn run(tool: &str, package: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} could not run ({e}): install the Debian package {package}")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn poppler(tool: &str, args: &[&str]) -> String {
    run(tool, "poppler-utils", args)
}

/// A scratch folder holding `pdf` as `cards.pdf`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn with(pdf: &[u8]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cards.pdf"), pdf).unwrap();
        Self { dir }
    }

    fn pdf(&self) -> String {
        self.path("cards.pdf")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn text(&self) -> String {
        poppler("pdftotext", &[&self.pdf(), "-"])
    }

    fn pages(&self) -> usize {
        self.info("Pages").parse().unwrap()
    }

    /// Width and height of the first page, in whole points.
    fn page_size(&self) -> (u32, u32) {
        let size = self.info("Page size");
        let numbers: Vec<f32> = size
            .split_whitespace()
            .filter_map(|word| word.parse().ok())
            .collect();
        (numbers[0].round() as u32, numbers[1].round() as u32)
    }

    fn info(&self, key: &str) -> String {
        let info = poppler("pdfinfo", &[&self.pdf()]);
        info.lines()
            .find_map(|line| line.strip_prefix(&format!("{key}:")))
            .unwrap_or_else(|| panic!("pdfinfo tells {key}:\n{info}"))
            .trim()
            .to_owned()
    }

    /// Page 1 as a grey image at `dpi`.
    fn page_one(&self, dpi: u32) -> Grey {
        let prefix = self.path("page");
        let dpi = dpi.to_string();
        let args = ["-gray", "-r", &dpi, "-f", "1", "-l", "1", "-singlefile"];
        poppler("pdftoppm", &[&args[..], &[&self.pdf(), &prefix]].concat());
        Grey::read(&PathBuf::from(format!("{prefix}.pgm")))
    }

    /// Page 1 as a PNG at `dpi`, returning its path.
    fn page_one_png(&self, dpi: u32, name: &str) -> String {
        let prefix = self.path(name);
        let dpi = dpi.to_string();
        let args = ["-png", "-r", &dpi, "-f", "1", "-l", "1", "-singlefile"];
        poppler("pdftoppm", &[&args[..], &[&self.pdf(), &prefix]].concat());
        format!("{prefix}.png")
    }
}

/// A binary PGM (`P5`, 8 bits), as `pdftoppm -gray` writes it.
struct Grey {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Grey {
    fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        // "P5\n<width> <height>\n255\n", then one byte per pixel.
        let header: Vec<&[u8]> = bytes.splitn(5, |b| b.is_ascii_whitespace()).collect();
        assert_eq!(header[0], b"P5", "a binary grey map");
        let number =
            |field: &[u8]| -> usize { std::str::from_utf8(field).unwrap().parse().unwrap() };
        let (width, height) = (number(header[1]), number(header[2]));
        let pixels = bytes[bytes.len() - width * height..].to_vec();
        Self {
            width,
            height,
            pixels,
        }
    }

    /// Pixels darker than mid-grey in the rectangle from `(x, y)`, `w` × `h` pixels.
    fn dark_in(&self, x: usize, y: usize, w: usize, h: usize) -> usize {
        (y..y + h)
            .flat_map(|row| &self.pixels[row * self.width + x..row * self.width + x + w])
            .filter(|p| **p < 128)
            .count()
    }
}

#[test]
fn every_name_username_and_password_reads_back_from_the_pdf() {
    let class = Class::new(10);
    let scratch = Scratch::with(&class.pdf(Paper::A4));
    let text = scratch.text();
    for learner in &class.learners {
        // A right-to-left override is dropped, so the name prints as typed.
        let name = learner.name.replace('\u{202E}', "");
        assert!(text.contains(&name), "{name} is on a card:\n{text}");
        assert!(text.contains(&learner.username), "{}", learner.username);
        if let Some(password) = &learner.password {
            assert!(text.contains(password), "{password} is on a card");
        }
    }
    assert!(
        !text.contains("Il1O0-otter-01"),
        "a learner's own password is not printed"
    );
    assert_eq!(text.matches("Set by the learner").count(), 1);
    assert_eq!(
        text.matches(SIGN_IN).count(),
        10,
        "every card has the address"
    );
    assert_eq!(
        text.matches(SCHOOL).count(),
        10,
        "every card has the school"
    );
    assert_eq!(scratch.pages(), 2, "10 cards take two pages of 8");
}

#[test]
fn a4_and_letter_sheets_have_their_paper_sizes() {
    let class = Class::new(CARDS_PER_PAGE);
    let a4 = Scratch::with(&class.pdf(Paper::A4));
    assert_eq!(a4.page_size(), (595, 842));
    assert_eq!(a4.pages(), 1, "a full page and no empty one after it");
    let letter = Scratch::with(&class.pdf(Paper::Letter));
    assert_eq!(letter.page_size(), (612, 792));
    assert_eq!(letter.pages(), 1);
}

#[test]
fn a_full_page_is_white_paper_with_ink_in_each_of_its_eight_cards() {
    let scratch = Scratch::with(&Class::new(CARDS_PER_PAGE).pdf(Paper::A4));
    let png = scratch.page_one_png(50, "page");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    if let Ok(keep) = std::env::var("CLASSKEYS_CARDS_PNG") {
        // For a person to look at: CLASSKEYS_CARDS_PNG=/tmp/cards-page1.png cargo test.
        std::fs::copy(scratch.page_one_png(110, "large"), keep).unwrap();
    }

    let page = scratch.page_one(50);
    let white = page.pixels.iter().filter(|p| **p > 200).count();
    assert!(white * 100 > page.pixels.len() * 85, "mostly white paper");
    // The cells inside the 10 mm margins, 2 across and 4 down.
    let margin = page.width * 10 / 210;
    let (cell_w, cell_h) = (
        (page.width - 2 * margin) / 2,
        (page.height - 2 * margin) / 4,
    );
    for row in 0..4 {
        for col in 0..2 {
            let (x, y) = (margin + col * cell_w, margin + row * cell_h);
            // Inside the cut lines, so their dashes do not count.
            let dark = page.dark_in(x + 2, y + 2, cell_w - 4, cell_h - 4);
            assert!(dark > 500, "card {row},{col} has ink ({dark} dark pixels)");
        }
    }
    let edge = page.dark_in(0, 0, page.width, margin - 2);
    assert_eq!(edge, 0, "nothing printed in the top margin");
}

#[test]
fn each_qr_code_opens_its_learners_link() {
    let class = Class::new(CARDS_PER_PAGE);
    let scratch = Scratch::with(&class.pdf(Paper::Letter));
    let png = scratch.page_one_png(150, "page");
    let mut read: Vec<String> = run("zbarimg", "zbar-tools", &["--raw", "-q", &png])
        .lines()
        .map(str::to_owned)
        .collect();
    read.sort();
    let mut links: Vec<String> = class.learners.iter().map(|l| l.qr_url.clone()).collect();
    links.sort();
    assert_eq!(read, links);
}

#[test]
fn long_text_shrinks_or_is_shortened_and_never_crosses_a_cut_line() {
    let long_name =
        "Maximilian-Alexander Wolfeschlegelsteinhausen-Bergerdorff von Hohenzollern-Sigmaringen";
    let long_class = "Year 3 Badgers and Otters (combined afternoon group, room 14b)";
    let long_url =
        "https://keys.a-very-long-school-district-name.example/s/st-bartholomews-primary/sign-in";
    let card = |name| Card {
        name,
        class: long_class,
        // The longest username the domain allows, 64 characters.
        username: "maximilian.alexander.wolfeschlegelsteinhausen.bergerdorff.hohenz",
        password: Some("correct-horse-battery-staple-42"),
        sign_in_url: long_url,
        qr_url: long_url,
    };
    let cards: Vec<Card<'_>> = ["Jo", long_name, "Zoë Adams", long_name]
        .into_iter()
        .cycle()
        .take(CARDS_PER_PAGE)
        .map(card)
        .collect();
    for paper in [Paper::A4, Paper::Letter] {
        let scratch = Scratch::with(&render(long_school(), &cards, paper).unwrap());
        let text = scratch.text();
        assert!(
            text.contains("Maximilian-Alexander Wolfeschlegel"),
            "{text}"
        );
        assert!(
            !text.contains("Sigmaringen"),
            "the longest name is shortened"
        );
        assert!(text.contains('…'));
        assert!(
            text.contains("correct-horse-battery-staple-42"),
            "passwords are never cut"
        );
        // Usernames are not cut either: one too long for a line is broken evenly over two.
        assert!(
            text.contains("maximilian.alexander.wolfeschleg\nelsteinhausen.bergerdorff.hohenz")
        );

        let (page_w, page_h) = scratch.page_size();
        let margin = 72.0 / 2.54;
        let cell_w = (page_w as f32 - 2.0 * margin) / 2.0;
        let cell_h = (page_h as f32 - 2.0 * margin) / 4.0;
        let words = words(&poppler("pdftotext", &["-bbox", &scratch.pdf(), "-"]));
        assert!(words.len() > 8 * 10, "{} words", words.len());
        for word in words {
            let col = ((word.x_min + word.x_max) / 2.0 - margin) / cell_w;
            let row = ((word.y_min + word.y_max) / 2.0 - margin) / cell_h;
            let (left, top) = (margin + col.floor() * cell_w, margin + row.floor() * cell_h);
            // At least 2 mm clear of the card's cut lines on every side.
            let clear = 2.0 * 72.0 / 25.4;
            assert!(
                word.x_min >= left + clear
                    && word.x_max <= left + cell_w - clear
                    && word.y_min >= top + clear
                    && word.y_max <= top + cell_h - clear,
                "{paper:?}: {:?} at {:?} crosses the edge of its card",
                word.text,
                (word.x_min, word.y_min, word.x_max, word.y_max),
            );
        }
    }
}

fn long_school() -> &'static str {
    "St Bartholomew's Church of England Voluntary Aided Primary School and Nursery, Little Snoring"
}

/// A word as `pdftotext -bbox` places it, in points from the top left of the page.
struct Word {
    text: String,
    x_min: f32,
    y_min: f32,
    x_max: f32,
    y_max: f32,
}

fn words(html: &str) -> Vec<Word> {
    html.split("<word ")
        .skip(1)
        .map(|rest| {
            let attribute = |name: &str| -> f32 {
                let start = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + rest[start..].find('"').unwrap();
                rest[start..end].parse().unwrap()
            };
            let text = rest[rest.find('>').unwrap() + 1..rest.find("</word>").unwrap()].to_owned();
            Word {
                text,
                x_min: attribute("xMin"),
                y_min: attribute("yMin"),
                x_max: attribute("xMax"),
                y_max: attribute("yMax"),
            }
        })
        .collect()
}

#[test]
fn characters_the_fonts_lack_and_invisible_controls_neither_crash_nor_vanish_silently() {
    let names = [
        "Emoji 😀🎉 Kid",
        "李小龍",
        "Tab\tNew\nLine\u{0}Nul",
        "e\u{0301}milie Decomposed",
        "\u{202E}\u{2066}\u{200B}",
        "",
    ];
    let cards: Vec<Card<'_>> = names
        .iter()
        .map(|name| Card {
            name,
            class: "",
            username: "",
            password: Some("🔑"),
            sign_in_url: "",
            qr_url: "",
        })
        .collect();
    let scratch = Scratch::with(&render("", &cards, Paper::A4).unwrap());
    let text = scratch.text();
    assert!(
        text.contains("Tab New Line Nul"),
        "controls print as spaces:\n{text}"
    );
    assert!(
        text.contains("\u{FFFD}\u{FFFD}\u{FFFD}"),
        "missing characters show:\n{text}"
    );
    assert!(
        text.contains("émilie") || text.contains("e\u{0301}milie"),
        "{text}"
    );
    assert_eq!(scratch.pages(), 1);
}

#[test]
fn a_page_of_cards_stays_small_and_a_whole_school_renders() {
    let size = |count| {
        let class = Class::new(count);
        let pdf = class.pdf(Paper::A4);
        assert!(pdf.starts_with(b"%PDF-"));
        pdf.len()
    };
    let page = size(CARDS_PER_PAGE);
    assert!(
        page < 200_000,
        "fonts are subset: {page} bytes for one page"
    );
    // Everyone's code opens the school's sign-in page, as on most schools' cards.
    let school = Class::new(1000);
    let cards: Vec<Card<'_>> = school
        .cards()
        .into_iter()
        .map(|card| Card {
            qr_url: SIGN_IN,
            ..card
        })
        .collect();
    let scratch = Scratch::with(&render(SCHOOL, &cards, Paper::Letter).unwrap());
    assert_eq!(scratch.pages(), 125);
}

#[test]
fn a_card_never_shows_its_password_in_debug_output() {
    let class = Class::new(1);
    let shown = format!("{:?}", class.cards()[0]);
    assert!(
        shown.contains("learner.00") && shown.contains("<hidden>"),
        "{shown}"
    );
    assert!(!shown.contains("otter"), "{shown}");
}

#[test]
fn no_cards_is_an_error_a_teacher_can_act_on() {
    let error = render(SCHOOL, &[], Paper::A4).unwrap_err();
    assert!(matches!(error, CardsError::NoCards));
    assert_eq!(
        error.to_string(),
        "there are no learners to make cards for: choose a class with learners in it"
    );
}

#[test]
fn a_link_too_long_for_any_qr_code_is_an_error_not_a_panic() {
    let link = format!("https://school.example/{}", "x".repeat(4000));
    let card = Card {
        name: "Ann",
        class: "1A",
        username: "ann",
        password: None,
        sign_in_url: "https://school.example",
        qr_url: &link,
    };
    let error = render(SCHOOL, &[card], Paper::A4).unwrap_err();
    assert!(matches!(error, CardsError::LinkTooLong(4023)), "{error}");
    assert!(error.to_string().contains("shorter"), "{error}");
}

#[test]
fn paper_sizes_read_and_travel_as_a4_and_letter() {
    assert_eq!(Paper::parse("A4").unwrap(), Paper::A4);
    assert_eq!(Paper::parse("LETTER").unwrap(), Paper::Letter);
    for paper in [Paper::A4, Paper::Letter] {
        assert_eq!(Paper::parse(paper.as_str()).unwrap(), paper);
        let json = serde_json::to_string(&paper).unwrap();
        assert_eq!(json, format!("\"{}\"", paper.as_str()));
        assert_eq!(serde_json::from_str::<Paper>(&json).unwrap(), paper);
    }
    let error = Paper::parse("A5").unwrap_err().to_string();
    assert_eq!(error, "unknown paper size \"A5\": use a4 or letter");
}

/// The parents' sheet as the server words it, shortened.
fn parents_sheet<'a>(url: &'a str, sections: &'a [Section<'a>]) -> Instructions<'a> {
    Instructions {
        school: "St Mary's Primary",
        title: "How to sign in",
        intro: "Learners of St Mary's Primary sign in at this address, on a computer, tablet or phone:",
        sign_in_url: url,
        sections,
        learner: None,
    }
}

#[test]
fn the_parents_sheet_is_one_page_with_the_address_the_help_and_a_qr_code_that_opens_it() {
    let url = "https://keys.school.example/s/st-marys/sign-in";
    let sections = [
        Section {
            heading: "Forgot the username?",
            paragraphs: &[
                "On the sign-in page, choose “Forgot your username or password?” and type the email address the school has for the learner: the username is sent to it.",
            ],
        },
        Section {
            heading: "Forgot the password?",
            paragraphs: &[
                "Type the username: a link to choose a new password is sent to the email address the school has. No email address? Ask the teacher.",
            ],
        },
    ];
    for paper in [Paper::A4, Paper::Letter] {
        let scratch =
            Scratch::with(&render_instructions(&parents_sheet(url, &sections), paper).unwrap());
        assert_eq!(scratch.pages(), 1);
        let text = scratch
            .text()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for expected in [
            "St Mary's Primary",
            "How to sign in",
            url,
            "Forgot the username?",
            "No email address? Ask the teacher.",
        ] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
        let png = scratch.page_one_png(150, "page");
        let read = run("zbarimg", "zbar-tools", &["--raw", "-q", &png]);
        assert_eq!(read.trim(), url);
    }
}

#[test]
fn personal_sheets_are_a_page_each_with_the_learners_username() {
    let url = "https://keys.school.example/s/st-marys/sign-in";
    let learners = [
        ("For Zoë Παπαδοπούλου:", "zoe.papadopoulou"),
        ("For Ivan Петров:", "ivan.petrov"),
    ];
    let sheets: Vec<Instructions<'_>> = learners
        .iter()
        .map(|&learner| Instructions {
            learner: Some(learner),
            ..parents_sheet(url, &[])
        })
        .collect();
    let scratch = Scratch::with(&render_instruction_pages(&sheets, Paper::A4).unwrap());
    assert_eq!(scratch.pages(), 2);
    let text = scratch.text();
    let pages: Vec<&str> = text.split('\u{c}').collect();
    for (page, (who, username)) in pages.iter().zip(learners) {
        assert!(page.contains(who) && page.contains(username), "{page}");
    }
    assert!(
        !pages[0].contains("ivan.petrov"),
        "each page names its own learner"
    );
    assert!(matches!(
        render_instruction_pages(&[], Paper::A4),
        Err(CardsError::Pdf(_))
    ));
}

#[test]
fn the_qr_code_for_a_web_page_is_svg_with_its_quiet_zone() {
    let svg = qr_svg("https://keys.school.example/s/st-marys/sign-in").unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        svg.contains("<path fill=\"#000\" d=\"M4 4h7v1h-7z"),
        "the finder pattern starts four modules in: {svg}"
    );
    assert!(matches!(
        qr_svg(&"x".repeat(8000)),
        Err(CardsError::LinkTooLong(8000))
    ));
}
