//! DynamoDB's Number: exact decimals of up to 38 significant digits, magnitudes from 1E-130 to
//! 9.9999999999999999999999999999999999999E+125, "Leading and trailing zeroes are trimmed"
//! (DynamoDB Developer Guide, "Supported data types and naming rules", Number). Compared by
//! value: `10` is greater than `9`, and `1.50` is `1.5`.

use std::cmp::Ordering;

use super::DynamoDbError;

/// Most significant digits.
const MAX_DIGITS: usize = 38;
/// The largest exponent `e` of a value written `0.d₁d₂… × 10^e` (9.99…E+125).
const MAX_EXPONENT: i64 = 126;
/// The smallest such exponent (1E-130).
const MIN_EXPONENT: i64 = -129;

/// A number, normalized: equal values have equal representations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant digits (0-9), without leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    /// The value is `0.digits × 10^exponent`.
    exponent: i64,
}

impl Number {
    /// Parses DynamoDB's text form (`-12.5`, `1e3`, `.5`), checking its limits.
    pub fn parse(text: &str) -> Result<Number, DynamoDbError> {
        let invalid = || {
            let shown: String = text.chars().take(64).collect();
            DynamoDbError::validation(format!(
                "The parameter cannot be converted to a numeric value: {shown}"
            ))
        };
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(invalid());
        }
        let exponent: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) {
                    return Err(invalid());
                }
                // Saturating: anything this large is out of range either way.
                let magnitude = digits
                    .bytes()
                    .fold(0i64, |n, b| (n * 10 + i64::from(b - b'0')).min(1 << 40));
                if e.starts_with('-') {
                    -magnitude
                } else {
                    magnitude
                }
            }
        };
        let mut digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .collect();
        let mut exponent = exponent + whole.len() as i64;
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        exponent -= leading as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Number {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        if digits.len() > MAX_DIGITS {
            return Err(DynamoDbError::validation(
                "Attempting to store more than 38 significant digits in a Number",
            ));
        }
        if exponent > MAX_EXPONENT {
            return Err(DynamoDbError::validation(
                "Number overflow. Attempting to store a number with magnitude larger than supported range",
            ));
        }
        if exponent < MIN_EXPONENT {
            return Err(DynamoDbError::validation(
                "Number underflow. Attempting to store a number with magnitude smaller than supported range",
            ));
        }
        Ok(Number {
            negative,
            digits,
            exponent,
        })
    }

    /// The plain decimal text (`1000`, `-0.05`), as DynamoDB returns numbers.
    pub fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let len = digits.len() as i64;
        let body = if self.exponent >= len {
            format!("{digits}{}", "0".repeat((self.exponent - len) as usize))
        } else if self.exponent > 0 {
            let (whole, fraction) = digits.split_at(self.exponent as usize);
            format!("{whole}.{fraction}")
        } else {
            format!("0.{}{digits}", "0".repeat((-self.exponent) as usize))
        };
        if self.negative {
            format!("-{body}")
        } else {
            body
        }
    }

    /// The integer part, saturating at the ends of `i64` (a TTL attribute's epoch seconds).
    pub fn whole_part(&self) -> i64 {
        let mut value: i64 = 0;
        for position in 0..self.exponent.max(0) {
            let digit = self.digits.get(position as usize).copied().unwrap_or(0);
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(digit)))
            {
                Some(v) => v,
                None => return if self.negative { i64::MIN } else { i64::MAX },
            };
        }
        if self.negative { -value } else { value }
    }

    /// Roughly how many bytes DynamoDB counts for it: "1 byte per two significant digits, plus
    /// 1 byte" (Developer Guide, "Item sizes and formats").
    pub fn size(&self) -> usize {
        self.digits.len().div_ceil(2) + 1
    }

    fn sign(&self) -> i8 {
        match (self.digits.is_empty(), self.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let by_sign = self.sign().cmp(&other.sign());
        if by_sign != Ordering::Equal || self.sign() == 0 {
            return by_sign;
        }
        // Normalized, so a larger exponent is a larger magnitude, and at equal exponents the
        // digit sequences compare as the magnitudes do.
        let magnitude = self
            .exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_are_normalized_and_compared_by_value() {
        for (text, normal) in [
            ("01.50", "1.5"),
            ("1e3", "1000"),
            ("-0.050", "-0.05"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-0", "0"),
            ("+7", "7"),
            ("1234567890123456789", "1234567890123456789"),
            ("1E-130", &format!("0.{}1", "0".repeat(129))),
        ] {
            assert_eq!(n(text).to_text(), normal, "{text}");
        }
        assert!(n("10") > n("9"));
        assert!(n("-10") < n("-9"));
        assert!(n("0.15") > n("0.1"));
        assert!(n("-0.5") < n("0"));
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1761000000").whole_part(), 1_761_000_000);
        assert_eq!(n("-2.9").whole_part(), -2);
        assert_eq!(n("0.9").whole_part(), 0);
        assert_eq!(n("9e125").whole_part(), i64::MAX);
    }

    #[test]
    fn what_dynamodb_refuses_is_refused() {
        for bad in [
            "", "abc", "1.2.3", "1e", "e5", "--1", "1 ", "0x10", ".", "NaN",
        ] {
            let err = Number::parse(bad).unwrap_err();
            assert!(
                err.message.starts_with("The parameter cannot be converted"),
                "{bad}"
            );
        }
        assert!(
            Number::parse("1e126")
                .unwrap_err()
                .message
                .contains("overflow")
        );
        assert!(
            Number::parse("1e-131")
                .unwrap_err()
                .message
                .contains("underflow")
        );
        assert!(
            Number::parse(&"1".repeat(39))
                .unwrap_err()
                .message
                .contains("38 significant digits")
        );
        assert!(Number::parse(&format!("{}000", "1".repeat(38))).is_ok());
    }
}
