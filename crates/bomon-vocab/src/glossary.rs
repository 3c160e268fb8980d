//! The words a reader of bomon's reports meets, explained once in Danish and
//! English. The report prints them as its glossary ("Ordforklaring"); the
//! CLI and the workbook use the same names.
//!
//! ```
//! use bomon_vocab::glossary::{term, TERMS};
//!
//! let t = term("alarm").unwrap();
//! assert_eq!(t.name(true), "Alarm");
//! assert!(t.explain(true).contains("99,8"));
//! assert!(TERMS.iter().all(|t| !t.explain(false).is_empty()));
//! ```

/// One term: its key, its name and its explanation in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Stable key (used by code and templates).
    pub key: &'static str,
    name_da: &'static str,
    name_en: &'static str,
    explain_da: &'static str,
    explain_en: &'static str,
}

impl Term {
    /// The term's name in the reader's language.
    pub fn name(&self, da: bool) -> &'static str {
        if da {
            self.name_da
        } else {
            self.name_en
        }
    }

    /// What it means, in one or two sentences.
    pub fn explain(&self, da: bool) -> &'static str {
        if da {
            self.explain_da
        } else {
            self.explain_en
        }
    }
}

macro_rules! terms {
    ($($key:literal: $nda:literal, $nen:literal, $eda:literal, $een:literal;)+) => {
        /// Every term, in the order a reader needs them.
        pub const TERMS: &[Term] = &[
            $(Term { key: $key, name_da: $nda, name_en: $nen, explain_da: $eda, explain_en: $een },)+
        ];
    };
}

terms! {
    "finding": "Markering", "Flag",
        "Et nøgletal i en afdeling, der afviger mere fra sammenligningen, end tilfældigheder let forklarer. En markering er en anledning til at spørge, ikke en konklusion.",
        "A key figure of a department that differs from its comparison by more than chance easily explains. A flag is a reason to ask, not a conclusion.";
    "alarm": "Alarm", "Alarm",
        "En stærk markering: uden for 99,8 %-grænsen, og stadig tydelig når man tager højde for, hvor mange test gennemgangen kører (q-værdi under 0,2 %).",
        "A strong flag: beyond the 99.8 % limit, and still clear after allowing for how many tests the review runs (q value below 0.2 %).";
    "alert": "Opmærksomhedspunkt", "Alert",
        "En svagere markering: uden for 95 %-grænsen (q-værdi under 5 %). Værd at holde øje med; alene sjældent nok til en vurdering.",
        "A weaker flag: beyond the 95 % limit (q value below 5 %). Worth watching; rarely enough on its own for an assessment.";
    "level": "Niveau", "Level",
        "Afdelingens tal i det seneste år sammenlignet med tvillingerne, den almene sektor og kommunen. Vises i et tragtdiagram.",
        "The department's figure in the latest year against its twins, public housing and the municipality. Shown in a funnel chart.";
    "development": "Udvikling", "Development",
        "Hvor meget afdelingens tal har ændret sig over de gennemgåede år, sammenlignet med hvordan tvillingernes og den almene sektors tal har ændret sig. Vises som afdelingens kurve mod tvillingernes bånd.",
        "How much the department's figure changed over the reviewed years, compared with how its twins' and public housing's changed. Shown as the department's line against its twins' band.";
    "trend": "Tendens", "Trend",
        "En vedvarende stigning eller et fald over mange år (Mann-Kendall-test på afdelingens egen serie).",
        "A sustained rise or fall over many years (Mann-Kendall test on the department's own series).";
    "twins": "Tvillinger", "Twins",
        "De afdelinger, der ligner afdelingen mest på størrelse, beboersammensætning og boligtype - dens sammenligningsgruppe.",
        "The departments most like this one in size, resident mix and housing type - its peer group.";
    "overdispersion": "Spredning mellem afdelinger", "Between-department spread",
        "Afdelinger adskiller sig mere fra hinanden, end tilfældigheder alene giver. Grænserne tager højde for det, så kun afvigelser ud over den almindelige forskel markeres.",
        "Departments differ from each other more than chance alone gives. The limits allow for that, so only differences beyond the usual spread are flagged.";
    "q": "q-værdi", "q value",
        "Sandsynligheden for at markeringen er falsk, når man tager højde for alle test i gennemgangen (Benjamini-Hochberg). Jo mindre, jo sikrere.",
        "The chance that the flag is false once all tests of the review are allowed for (Benjamini-Hochberg). The smaller, the surer.";
    "expected_false": "Forventede falske markeringer", "Expected false flags",
        "Hvor mange af gennemgangens markeringer man må forvente skyldes tilfældigheder, selv om intet har ændret sig.",
        "How many of the review's flags one must expect from chance alone, even where nothing has changed.";
    "score": "Point", "Score",
        "Afdelingens samlede vægt: 3 for en alarm og 1 for et opmærksomhedspunkt (det stærkeste pr. nøgletal og test), ×1,5 når det også blev markeret sidste år, plus 1 for hvert nøgletal ud over det første og 3/2/1 for kommunens kategori rød/orange/gul. Fra 3 point bedes om en vurdering.",
        "The department's total weight: 3 for an alarm and 1 for an alert (the strongest per indicator and test), x1.5 when also flagged last year, plus 1 for every indicator beyond the first and 3/2/1 for the municipality's red/orange/yellow category. From 3 points an assessment is asked for.";
    "assessment": "Kvalitativ vurdering", "Qualitative assessment",
        "Folk, der kender afdelingen, fortæller hvad tallene dækker over. Svaret skrives i vurderingsskemaet og læses ind med bomon assess import.",
        "People who know the department say what lies behind the figures. The answer goes in the assessment form and is read in with bomon assess import.";
    "suppressed": "Diskretionering", "Suppression",
        "Antal fra 1 til 4 vises som \"<5\", og andele bygget på dem vises ikke, så ingen beboer kan genkendes.",
        "Counts from 1 to 4 show as \"<5\", and rates built on them are not shown, so that no resident can be recognised.";
    "category": "Kommunens kategori", "Municipal category",
        "Kommunens rød/orange/gul/grøn-klassifikation af boligområdet; rød, orange og gul følges op hvert kvartal.",
        "The municipality's red/orange/yellow/green classification of the housing area; red, orange and yellow are followed up every quarter.";
    "seasonal": "Sæsonkorrigeret", "Seasonally adjusted",
        "Kvartalstal, hvor det sædvanlige udsving mellem årets kvartaler er trukket fra, så et kvartal sammenlignes med det, man plejer at se i det kvartal.",
        "Quarterly figures with the usual swing between a year's quarters taken out, so that a quarter is compared with what that quarter usually shows.";
}

/// The term with `key`, if there is one.
pub fn term(key: &str) -> Option<&'static Term> {
    TERMS.iter().find(|t| t.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_term_is_explained_in_both_languages() {
        let keys: std::collections::HashSet<_> = TERMS.iter().map(|t| t.key).collect();
        assert_eq!(keys.len(), TERMS.len());
        for t in TERMS {
            assert!(
                t.explain(true).ends_with('.') && t.explain(false).ends_with('.'),
                "{}",
                t.key
            );
        }
    }
}
