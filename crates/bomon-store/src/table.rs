//! Output tables whose string columns are held as codes into their few
//! distinct values, and written to Parquet as dictionary pages straight
//! from those codes.
//!
//! A national review's tests are half a million rows of some thousand
//! department ids and a handful of test names; its chart points a million
//! rows. Materialised as polars strings, every row holds a copy (a 16-byte
//! view), and polars' Parquet writer then estimates each column's
//! cardinality and hashes every row back into a dictionary. Held as codes,
//! the dictionary is the distinct values and the codes are the keys: the
//! file is the same (string columns, dictionary-encoded), read back as
//! strings, at a fraction of the work.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::IntegerType;
use polars_parquet::write::{
    array_to_columns, compress, fallible_streaming_iterator, to_parquet_schema, CompressedPage,
    CompressionOptions, DynIter, DynStreamingIterator, Encoding, FileWriter, StatisticsOptions,
    Version, WriteOptions, ZstdLevel,
};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows per row group, as polars' own writer: 512 x 512.
const ROW_GROUP: usize = 512 * 512;

/// A column of a [`Table`].
#[derive(Debug, Clone)]
pub enum TableColumn {
    /// A column as polars holds it.
    Plain(Column),
    /// A string column: row r is `uniques[codes[r]]`, null where
    /// `validity` (if any) is unset.
    Coded {
        /// The column's name.
        name: PlSmallStr,
        /// The distinct values (unused ones allowed).
        uniques: Vec<String>,
        /// Per row, an index into `uniques` (0 under a null).
        codes: Vec<u32>,
        /// Which rows hold a value; None: all.
        validity: Option<Bitmap>,
    },
}

impl TableColumn {
    /// A string column from `uniques` and per row an index into them (None:
    /// null). Panics if a code is out of range.
    pub fn coded(
        name: &str,
        uniques: &[&str],
        codes: impl Iterator<Item = Option<usize>>,
    ) -> TableColumn {
        // The codes as plain integers, a null as a sentinel turned into a
        // validity mask only when one occurs (no vector of options).
        const NULL: u32 = u32::MAX;
        let mut codes: Vec<u32> = codes
            .map(|c| {
                c.map_or(NULL, |c| {
                    assert!(c < uniques.len(), "code {c} of {} in {name}", uniques.len());
                    c as u32
                })
            })
            .collect();
        let validity = codes.contains(&NULL).then(|| {
            let v: Bitmap = codes.iter().map(|&c| c != NULL).collect();
            for c in codes.iter_mut().filter(|c| **c == NULL) {
                *c = 0;
            }
            v
        });
        TableColumn::Coded {
            name: name.into(),
            uniques: uniques.iter().map(|s| s.to_string()).collect(),
            codes,
            validity,
        }
    }

    /// [`TableColumn::coded`] for a column of few distinct values given row
    /// by row (test names, severities, rules): each value is looked up
    /// among those seen. The values are mostly the same few string
    /// literals, mostly the same as the row before: the last one is tried
    /// first, then each by address, by its text only when that fails.
    pub fn interned<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> TableColumn {
        let mut uniques: Vec<&str> = Vec::new();
        let mut last: Option<(&str, usize)> = None;
        let codes: Vec<Option<usize>> = values
            .map(|v| {
                let v = v?;
                if let Some((l, k)) = last {
                    if std::ptr::eq(l, v) {
                        return Some(k);
                    }
                }
                let k = match uniques
                    .iter()
                    .position(|u| std::ptr::eq(*u, v))
                    .or_else(|| uniques.iter().position(|u| *u == v))
                {
                    Some(k) => k,
                    None => {
                        uniques.push(v);
                        uniques.len() - 1
                    }
                };
                last = Some((v, k));
                Some(k)
            })
            .collect();
        TableColumn::coded(name, &uniques, codes.into_iter())
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            TableColumn::Plain(c) => c.name().as_str(),
            TableColumn::Coded { name, .. } => name.as_str(),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            TableColumn::Plain(c) => c.len(),
            TableColumn::Coded { codes, .. } => codes.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// As polars holds it: a coded column's strings gathered from its
    /// distinct values (one take, not a string built per row).
    pub fn to_column(&self) -> PolarsResult<Column> {
        match self {
            TableColumn::Plain(c) => Ok(c.clone()),
            TableColumn::Coded {
                name,
                uniques,
                codes,
                validity,
            } => {
                let idx: Vec<IdxSize> = codes.iter().map(|&c| c as IdxSize).collect();
                let idx = IdxCa::from_vec_validity(name.clone(), idx, validity.clone());
                let values = Series::new(name.clone(), uniques);
                Ok(values.take(&idx)?.with_name(name.clone()).into())
            }
        }
    }

    /// The arrow field and the arrays of rows `offset..offset + len`: a
    /// coded column as a dictionary array of its codes, declared a plain
    /// string column (the file's readers see strings).
    fn arrow(&self, offset: usize, len: usize) -> (ArrowField, Box<dyn Array>) {
        match self {
            TableColumn::Plain(c) => {
                let s = c
                    .as_materialized_series()
                    .slice(offset as i64, len)
                    .rechunk();
                let field = s.field().to_arrow(CompatLevel::newest());
                (field, s.to_arrow(0, CompatLevel::newest()))
            }
            TableColumn::Coded {
                name,
                uniques,
                codes,
                validity,
            } => {
                let keys = PrimitiveArray::<u32>::from_vec(codes[offset..offset + len].to_vec())
                    .with_validity(validity.as_ref().map(|v| v.clone().sliced(offset, len)));
                let values = Utf8ViewArray::from_slice_values(uniques);
                let dict = DictionaryArray::<u32>::try_new(
                    ArrowDataType::Dictionary(
                        IntegerType::UInt32,
                        Box::new(ArrowDataType::Utf8View),
                        false,
                    ),
                    keys,
                    values.boxed(),
                )
                .expect("codes within the distinct values");
                (
                    ArrowField::new(name.clone(), ArrowDataType::Utf8View, true),
                    dict.boxed(),
                )
            }
        }
    }
}

/// Columns of equal length, some held as codes.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<TableColumn>,
}

impl From<DataFrame> for Table {
    fn from(df: DataFrame) -> Table {
        Table {
            columns: df
                .get_columns()
                .iter()
                .cloned()
                .map(TableColumn::Plain)
                .collect(),
        }
    }
}

impl Table {
    /// The number of rows.
    pub fn height(&self) -> usize {
        self.columns.first().map_or(0, TableColumn::len)
    }

    /// As a polars frame.
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        DataFrame::new(
            self.columns
                .par_iter()
                .map(TableColumn::to_column)
                .collect::<PolarsResult<Vec<_>>>()?,
        )
    }

    /// Writes the table to `path` as polars' writer does (zstd level 1,
    /// minimum, maximum and null count per column chunk, row groups of
    /// 512 x 512 rows, strings and integers dictionary-encoded, floats
    /// plain), but a coded column's dictionary is its distinct values and
    /// its keys its codes. Each row group's columns are encoded and
    /// compressed in parallel.
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        let height = self.height();
        let pe = |e: PolarsError| Error::polars(format!("writing {}", path.display()), e);
        if let Some(c) = self.columns.iter().find(|c| c.len() != height) {
            return Err(pe(PolarsError::ShapeMismatch(
                format!("column {} has {} rows, not {height}", c.name(), c.len()).into(),
            )));
        }
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            version: Version::V1,
            compression: CompressionOptions::Zstd(Some(
                ZstdLevel::try_new(1).map_err(|e| pe(e.into()))?,
            )),
            data_page_size: None,
        };
        let fields: Vec<ArrowField> = self.columns.iter().map(|c| c.arrow(0, 0).0).collect();
        let schema: ArrowSchema = fields.iter().map(|f| (f.name.clone(), f.clone())).collect();
        let parquet_schema = to_parquet_schema(&schema).map_err(pe)?;
        let types = parquet_schema.fields().to_vec();
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut writer = FileWriter::new_with_parquet_schema(
            BufWriter::new(file),
            schema,
            parquet_schema,
            options,
        );
        let mut offset = 0;
        // An empty table is one empty row group, as polars writes it.
        while offset < height || offset == 0 {
            let len = ROW_GROUP.min(height - offset);
            let columns: Vec<Vec<CompressedPage>> = self
                .columns
                .par_iter()
                .zip(&fields)
                .zip(&types)
                .map(|((c, field), ty)| -> PolarsResult<Vec<CompressedPage>> {
                    let (_, array) = c.arrow(offset, len);
                    let encoding = match field.dtype().to_physical_type() {
                        polars_arrow::datatypes::PhysicalType::Primitive(p)
                            if matches!(
                                p,
                                polars_arrow::types::PrimitiveType::Float32
                                    | polars_arrow::types::PrimitiveType::Float64
                            ) =>
                        {
                            Encoding::Plain
                        }
                        polars_arrow::datatypes::PhysicalType::Primitive(_)
                        | polars_arrow::datatypes::PhysicalType::BinaryView
                        | polars_arrow::datatypes::PhysicalType::Utf8View => {
                            Encoding::RleDictionary
                        }
                        _ => Encoding::Plain,
                    };
                    let mut pages = Vec::new();
                    for encoded in array_to_columns(array, ty.clone(), options, &[encoding])? {
                        for page in encoded {
                            pages.push(compress(page?, vec![], options.compression)?);
                        }
                    }
                    Ok(pages)
                })
                .collect::<PolarsResult<_>>()
                .map_err(pe)?;
            writer
                .write(DynIter::new(columns.iter().map(|pages| {
                    Ok(DynStreamingIterator::new(
                        fallible_streaming_iterator::convert(pages.iter().map(Ok)),
                    ))
                })))
                .map_err(pe)?;
            offset += len;
            if height == 0 {
                break;
            }
        }
        writer.end(None).map_err(pe)?;
        let mut out = writer.into_inner();
        std::io::Write::flush(&mut out).map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> DataFrame {
        ParquetReader::new(File::open(path).unwrap())
            .finish()
            .unwrap()
    }

    /// Written from codes, read back by polars: the same strings (nulls
    /// too), as plain string columns, over more than one row group; an
    /// empty table has its columns and no rows.
    #[test]
    fn coded_columns_read_back_as_their_strings() {
        let dir = tempfile::tempdir().unwrap();
        let n = ROW_GROUP + 1234;
        let ids = ["0101-001", "0101-002", "Å \"quoted\", comma"];
        let table = Table {
            columns: vec![
                TableColumn::coded("id", &ids, (0..n).map(|r| Some(r % 3))),
                TableColumn::coded("maybe", &ids, (0..n).map(|r| (r % 5 != 0).then_some(r % 2))),
                TableColumn::interned(
                    "test",
                    (0..n).map(|r| {
                        if r % 7 == 0 {
                            None
                        } else {
                            Some(["level", "trend"][r % 2])
                        }
                    }),
                ),
                TableColumn::Plain(Column::new(
                    "z".into(),
                    (0..n)
                        .map(|r| (r % 11 != 0).then_some(r as f64 / 7.0))
                        .collect::<Vec<_>>(),
                )),
                // No value at all (an annual review's attributions).
                TableColumn::interned("none", (0..n).map(|_| None)),
                TableColumn::Plain(Column::new(
                    "flag".into(),
                    (0..n).map(|r| r % 2 == 0).collect::<Vec<_>>(),
                )),
            ],
        };
        let path = dir.path().join("t.parquet");
        table.write_parquet(&path).unwrap();
        let back = read(&path);
        let want = table.to_frame().unwrap();
        assert_eq!(back.schema(), want.schema());
        assert_eq!(back.column("id").unwrap().dtype(), &DataType::String);
        assert!(back.equals_missing(&want));
        assert_eq!(back.column("maybe").unwrap().null_count(), n.div_ceil(5));
        assert_eq!(back.column("none").unwrap().null_count(), n);
        assert_eq!(back.column("none").unwrap().dtype(), &DataType::String);
        assert_eq!(
            back.column("id").unwrap().str().unwrap().get(ROW_GROUP + 2),
            Some(ids[(ROW_GROUP + 2) % 3])
        );
        // Two row groups.
        let meta = ParquetReader::new(File::open(&path).unwrap())
            .get_metadata()
            .unwrap()
            .clone();
        assert_eq!(meta.row_groups.len(), 2);

        let empty = Table {
            columns: vec![
                TableColumn::coded("id", &ids, std::iter::empty()),
                TableColumn::Plain(Column::new("z".into(), Vec::<f64>::new())),
            ],
        };
        let path = dir.path().join("e.parquet");
        empty.write_parquet(&path).unwrap();
        let back = read(&path);
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), empty.to_frame().unwrap().schema());

        // Columns of unequal length are refused, naming the column.
        let bad = Table {
            columns: vec![
                TableColumn::coded("id", &ids, [Some(0)].into_iter()),
                TableColumn::Plain(Column::new("z".into(), vec![1.0, 2.0])),
            ],
        };
        let err = bad
            .write_parquet(&dir.path().join("b.parquet"))
            .unwrap_err();
        assert!(err.to_string().contains("column z has 2 rows"), "{err}");
    }
}
