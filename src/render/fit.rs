//! How a table gives way on a narrow terminal: which columns narrow or vanish, and in which
//! order, so that the columns that answer the question stay readable. Pure arithmetic on
//! column widths; the renderer cuts the cells.

/// What a column may give up when the table is wider than the terminal. Lower orders give
/// way first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Never narrows (the last visible column is still cut at the end of the line).
    Keep,
    /// Vanishes whole (for numbers: a cut number would lie).
    Drop(u8),
    /// Text cut down to `min` columns; vanishes if the table is still too wide after every
    /// column has given what it can.
    Narrow { order: u8, min: usize },
    /// Text cut down to `min` columns; never vanishes.
    Cut { order: u8, min: usize },
}

impl Fit {
    fn order(self) -> u8 {
        match self {
            Fit::Keep => u8::MAX,
            Fit::Drop(order) | Fit::Narrow { order, .. } | Fit::Cut { order, .. } => order,
        }
    }
}

/// The width of each column within `limit` columns (`None`: the column is not shown),
/// starting from their natural widths. Gives way in [`Fit`] order and stops as soon as the
/// table fits; what still does not fit is cut at the end of the line.
pub fn fit(natural: &[usize], fits: &[Fit], limit: usize) -> Vec<Option<usize>> {
    let mut widths: Vec<Option<usize>> = natural.iter().copied().map(Some).collect();
    let mut order: Vec<usize> = (0..widths.len())
        .filter(|&i| fits.get(i).is_some_and(|fit| *fit != Fit::Keep))
        .collect();
    order.sort_by_key(|&i| fits[i].order());
    for &index in &order {
        let excess = total(&widths).saturating_sub(limit);
        if excess == 0 {
            return widths;
        }
        let Some(width) = widths[index] else {
            continue;
        };
        widths[index] = match fits[index] {
            Fit::Drop(_) => None,
            Fit::Narrow { min, .. } | Fit::Cut { min, .. } => {
                Some(width.saturating_sub(excess).max(min.min(width)))
            }
            Fit::Keep => Some(width),
        };
    }
    for &index in &order {
        if total(&widths) <= limit {
            break;
        }
        if matches!(fits[index], Fit::Narrow { .. }) {
            widths[index] = None;
        }
    }
    widths
}

/// Line width: the visible columns and one space between each two.
fn total(widths: &[Option<usize>]) -> usize {
    let visible: Vec<usize> = widths.iter().flatten().copied().collect();
    visible.iter().sum::<usize>() + visible.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_table_is_untouched() {
        let fits = [Fit::Keep, Fit::Drop(0)];
        assert_eq!(fit(&[3, 4], &fits, 8), vec![Some(3), Some(4)]);
    }

    #[test]
    fn drops_then_narrows_in_order_and_stops_when_it_fits() {
        let fits = [
            Fit::Keep,
            Fit::Narrow { order: 2, min: 4 },
            Fit::Drop(0),
            Fit::Drop(1),
            Fit::Keep,
        ];
        // 3 + 10 + 5 + 5 + 20 + 4 spaces = 47
        assert_eq!(
            fit(&[3, 10, 5, 5, 20], &fits, 41),
            vec![Some(3), Some(10), None, Some(5), Some(20)]
        );
        assert_eq!(
            fit(&[3, 10, 5, 5, 20], &fits, 30),
            vec![Some(3), Some(5), None, None, Some(20)]
        );
    }

    #[test]
    fn narrow_columns_vanish_but_cut_columns_stay() {
        let fits = [
            Fit::Keep,
            Fit::Narrow { order: 1, min: 4 },
            Fit::Cut { order: 2, min: 7 },
        ];
        assert_eq!(fit(&[3, 10, 30], &fits, 10), vec![Some(3), None, Some(7)]);
    }
}
