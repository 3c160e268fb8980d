//! The assessment form's vocabulary, defined once: the columns, the outcomes
//! and the roles of who assessed (and of whom the report says to ask).
//!
//! The store keeps the codes of shared/DESIGN.md section 3 (`no_concern`,
//! `monitor`, `dialogue`, `initiative`; the roles' Danish codes). A filled-in
//! form may use either the code or the Danish or English label, in any case:
//! "dialog", "Dialogue" and "dialogue" are all [`Outcome::Dialogue`].
//!
//! ```
//! use bomon_vocab::form::{Outcome, Role};
//!
//! assert_eq!("dialog".parse::<Outcome>(), Ok(Outcome::Dialogue));
//! assert_eq!(Outcome::Dialogue.code(), "dialogue");
//! assert_eq!(Outcome::Monitor.label(true), "følges");
//! assert_eq!("udlejningen".parse::<Role>(), Ok(Role::Letting));
//! assert_eq!(Role::Letting.code(), "udlejning");
//! assert!("pedel".parse::<Role>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('_', " ")
}

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($(#[$vm:meta])* $v:ident => $code:literal, $da:literal, $en:literal, [$($alias:literal),*];)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vm])* $v,)+
        }

        impl $name {
            /// Every value, in the form's order.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            /// The code the store keeps.
            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }

            /// The label a reader sees (Danish or English).
            pub fn label(self, da: bool) -> &'static str {
                match self { $($name::$v => if da { $da } else { $en },)+ }
            }

            /// The labels of every value, for a drop-down list.
            pub fn labels(da: bool) -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.label(da)).collect()
            }

            /// "code (label), ..." for error messages and instructions.
            pub fn listing(da: bool) -> String {
                Self::ALL
                    .iter()
                    .map(|v| if v.code() == v.label(da) { v.code().to_string() } else { format!("{} ({})", v.label(da), v.code()) })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }

        impl FromStr for $name {
            type Err = String;
            /// A code, a Danish or English label or a known alias, in any case.
            fn from_str(s: &str) -> Result<Self, String> {
                let n = norm(s);
                $(
                    if [$code, $da, $en $(, $alias)*].iter().any(|w| norm(w) == n) {
                        return Ok($name::$v);
                    }
                )+
                Err(format!("unknown {} \"{}\": expected one of {}", $what, s.trim(), Self::listing(true)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary!(
    /// What the people on the ground concluded.
    Outcome, "outcome", {
        /// Nothing to worry about; the finding is not prompted again unless it grows.
        NoConcern => "no_concern", "ingen bekymring", "no concern", ["ingen"];
        /// Keep an eye on it.
        Monitor => "monitor", "følges", "monitor", ["følg", "overvåges"];
        /// Talk with the department (board, staff).
        Dialogue => "dialogue", "dialog", "dialogue", [];
        /// An initiative is started.
        Initiative => "initiative", "indsats", "initiative", ["tiltag"];
    }
);

vocabulary!(
    /// Who assessed - and whom the report says to ask.
    Role, "role", {
        /// The department's elected board.
        Board => "afdelingsbestyrelse", "afdelingsbestyrelsen", "the department board", ["bestyrelse", "bestyrelsen", "department board"];
        /// Caretakers and estate staff.
        Caretaker => "ejendomsfunktionær", "ejendomsfunktionærer og varmemestre", "caretakers and estate staff", ["ejendomsfunktionærer", "varmemester", "varmemestre", "caretaker"];
        /// The estate's inspector.
        Inspector => "inspektør", "inspektøren", "the inspector", ["inspector"];
        /// Social-housing (boligsocial) staff.
        SocialStaff => "boligsocial medarbejder", "boligsociale medarbejdere", "social-housing staff", ["boligsocial", "boligsociale"];
        /// The social-housing coordinator.
        Coordinator => "koordinator", "koordinatoren", "the coordinator", ["coordinator"];
        /// The letting department.
        Letting => "udlejning", "udlejningen", "the letting department", ["letting"];
        /// Volunteers.
        Volunteers => "frivillige", "frivillige", "volunteers", ["frivillig"];
        /// Anyone else.
        Other => "other", "andet", "other", ["andre", "anden"];
    }
);

/// One column of the form: its code (the interchange name) and its header
/// in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The `assessments` format's name (shared/DESIGN.md section 3).
    pub code: &'static str,
    /// The Danish header.
    pub da: &'static str,
    /// The English header.
    pub en: &'static str,
}

impl Column {
    /// The header in the reader's language.
    pub fn header(&self, da: bool) -> &'static str {
        if da {
            self.da
        } else {
            self.en
        }
    }

    /// Whether a header cell names this column (code or either header, any case).
    pub fn matches(&self, cell: &str) -> bool {
        let n = norm(cell);
        [self.code, self.da, self.en].iter().any(|w| norm(w) == n)
    }
}

/// The columns `bomon assess import` reads, in order.
pub const COLUMNS: [Column; 6] = [
    Column {
        code: "department_id",
        da: "Afdeling (id)",
        en: "Department (id)",
    },
    Column {
        code: "period",
        da: "Periode",
        en: "Period",
    },
    Column {
        code: "assessed_on",
        da: "Vurderet den",
        en: "Assessed on",
    },
    Column {
        code: "assessed_by_role",
        da: "Vurderet af",
        en: "Assessed by",
    },
    Column {
        code: "outcome",
        da: "Udfald",
        en: "Outcome",
    },
    Column {
        code: "note",
        da: "Note",
        en: "Note",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_and_code_parses_back_and_codes_are_unique() {
        for o in Outcome::ALL {
            for s in [o.code(), o.label(true), o.label(false)] {
                assert_eq!(s.parse::<Outcome>(), Ok(*o), "{s}");
                assert_eq!(s.to_uppercase().parse::<Outcome>(), Ok(*o), "{s}");
            }
        }
        for r in Role::ALL {
            for s in [r.code(), r.label(true), r.label(false)] {
                assert_eq!(s.parse::<Role>(), Ok(*r), "{s}");
            }
        }
        let codes: std::collections::HashSet<_> = Role::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Role::ALL.len());
    }

    #[test]
    fn the_store_codes_are_those_of_the_design() {
        // shared/DESIGN.md section 3: outcome (no_concern | monitor | dialogue | initiative).
        let codes: Vec<_> = Outcome::ALL.iter().map(|o| o.code()).collect();
        assert_eq!(codes, ["no_concern", "monitor", "dialogue", "initiative"]);
        // The roles stored before this vocabulary existed still parse to themselves.
        for old in [
            "afdelingsbestyrelse",
            "ejendomsfunktionær",
            "inspektør",
            "boligsocial medarbejder",
            "koordinator",
            "other",
        ] {
            assert_eq!(old.parse::<Role>().map(|r| r.code()), Ok(old));
        }
    }

    #[test]
    fn an_unknown_word_names_what_is_expected() {
        let e = "maybe".parse::<Outcome>().unwrap_err();
        assert!(
            e.contains("\"maybe\"") && e.contains("dialog (dialogue)"),
            "{e}"
        );
    }

    #[test]
    fn headers_match_code_and_either_language() {
        assert!(COLUMNS[4].matches("outcome"));
        assert!(COLUMNS[4].matches(" udfald "));
        assert!(COLUMNS[0].matches("Afdeling (id)"));
        assert!(!COLUMNS[0].matches("Afdeling"));
    }
}
