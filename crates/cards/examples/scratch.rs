use classkeys_cards::{Card, Paper, render};
use std::time::Instant;
fn main() {
    let long_url = "https://keys.a-very-long-school-district-name.example/s/st-bartholomews-primary/sign-in";
    let names = ["Maximilian-Alexander Wolfeschlegelsteinhausen-Bergerdorff von Hohenzollern", "Emoji 😀 李小龍", "e\u{0301}milie Nguyễn", "Ъ Ё Ж Ω ψ ő ű ą ł ž ñ ø", "", "Jo", "Tab\tNew\nLine", "Ann\u{202E}ekim"];
    let pw = ["correct-horse-battery-staple-42", "Il1|O0oO", "xX0Oo8B", "llll1111IIII", "", "🔑", "p", "pass"];
    let cards: Vec<Card> = (0..8).map(|i| Card { name: names[i], class: if i == 0 {"Year 3 Badgers and Otters (combined afternoon group, room 14b)"} else {"3B"}, username: if i == 0 {"maximilian.alexander.wolfeschlegelsteinhausen"} else {"ann.lee"}, password: Some(pw[i]), sign_in_url: long_url, qr_url: long_url }).collect();
    std::fs::write("/tmp/long-a4.pdf", render("St Bartholomew's Church of England Voluntary Aided Primary School and Nursery", &cards, Paper::A4).unwrap()).unwrap();
    std::fs::write("/tmp/long-letter.pdf", render("Demo", &cards, Paper::Letter).unwrap()).unwrap();
    let rows: Vec<(String, String, String)> = (0..1000).map(|i| ("Анастасия Смирнова".to_owned(), format!("learner.{i:03}"), format!("Il1O0-otter-{i:03}"))).collect();
    let url = "https://keys.demo-primary.example/s/demo/sign-in";
    let cards: Vec<Card> = rows.iter().map(|(n, u, p)| Card { name: n, class: "3 Badgers", username: u, password: Some(p), sign_in_url: url, qr_url: url }).collect();
    for n in [8usize, 30, 1000] {
        for _ in 0..3 {
            let t = Instant::now();
            let pdf = render("Demo Primary", &cards[..n], Paper::A4).unwrap();
            println!("{n} cards: {} bytes, {:?}", pdf.len(), t.elapsed());
        }
    }
    let per: Vec<String> = (0..1000).map(|i| format!("{url}?u=learner.{i:03}")).collect();
    let cards: Vec<Card> = cards.iter().zip(&per).map(|(c, q)| Card { qr_url: q, ..*c }).collect();
    let t = Instant::now();
    let pdf = render("Demo Primary", &cards, Paper::A4).unwrap();
    println!("1000 cards, one link each: {} bytes, {:?}", pdf.len(), t.elapsed());
}
