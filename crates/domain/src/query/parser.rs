//! Turns the token stream into an [`Expr`] in normal form, by recursive
//! descent: `OR` binds looser than (implicit or explicit) `AND`, and `-`/`NOT`
//! bind tightest. Also owns the error type and the size limits that keep a
//! hostile query cheap to reject.

use std::fmt;

use super::ast::Expr;
use super::lexer::{Lexer, Tok, Token};

/// Longest query accepted, in chars.
pub const MAX_QUERY_CHARS: usize = 2000;
/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 16;

/// Why a query could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 0-based char (not byte) offset into the input.
    pub position: usize,
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for QueryError {}

fn err(position: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        position,
        message: message.into(),
    }
}

/// What the next token is, without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    End,
    LParen,
    RParen,
    Minus,
    Not,
    And,
    Or,
    Term,
}

impl Kind {
    /// Whether a (possibly negated) term or group can start here.
    fn starts_unary(self) -> bool {
        matches!(self, Kind::LParen | Kind::Minus | Kind::Not | Kind::Term)
    }
}

struct Parser {
    lexer: Lexer,
    /// The token after the cursor once peeked (`Some(None)` is the end).
    ahead: Option<Option<Token>>,
    depth: usize,
}

/// Parse a query into its normal form. Never panics.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    if input.chars().nth(MAX_QUERY_CHARS).is_some() {
        return Err(err(
            MAX_QUERY_CHARS,
            format!("query is too long: at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let mut p = Parser {
        lexer: Lexer::new(input),
        ahead: None,
        depth: 0,
    };
    if p.peek()?.0 == Kind::End {
        return Ok(Expr::everything());
    }
    let expr = p.or()?;
    match p.bump()? {
        None => Ok(expr),
        Some(Token {
            tok: Tok::RParen,
            pos,
        }) => Err(err(pos, "unmatched ')'")),
        Some(t) => Err(err(t.pos, "unexpected token")),
    }
}

impl Parser {
    fn peek(&mut self) -> Result<(Kind, usize), QueryError> {
        if self.ahead.is_none() {
            self.ahead = Some(self.lexer.next_token()?);
        }
        Ok(match self.ahead.as_ref().and_then(Option::as_ref) {
            None => (Kind::End, self.lexer.len()),
            Some(t) => (
                match t.tok {
                    Tok::LParen => Kind::LParen,
                    Tok::RParen => Kind::RParen,
                    Tok::Minus => Kind::Minus,
                    Tok::Not => Kind::Not,
                    Tok::And => Kind::And,
                    Tok::Or => Kind::Or,
                    Tok::Term(_) => Kind::Term,
                },
                t.pos,
            ),
        })
    }

    fn bump(&mut self) -> Result<Option<Token>, QueryError> {
        match self.ahead.take() {
            Some(t) => Ok(t),
            None => self.lexer.next_token(),
        }
    }

    /// `or = and { "OR" and }`
    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut children = vec![self.and()?];
        while let (Kind::Or, pos) = self.peek()? {
            self.bump()?;
            if !self.peek()?.0.starts_unary() {
                return Err(err(pos, "OR needs a term on each side"));
            }
            children.push(self.and()?);
        }
        Ok(Expr::or(children))
    }

    /// `and = unary { ["AND"] unary }`
    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut children = Vec::new();
        loop {
            let (kind, pos) = self.peek()?;
            match kind {
                k if k.starts_unary() => children.push(self.unary()?),
                Kind::And => {
                    self.bump()?;
                    if children.is_empty() || !self.peek()?.0.starts_unary() {
                        return Err(err(pos, "AND needs a term on each side"));
                    }
                }
                _ if !children.is_empty() => break,
                Kind::Or => return Err(err(pos, "OR needs a term on each side")),
                Kind::RParen if self.depth == 0 => return Err(err(pos, "unmatched ')'")),
                _ => return Err(err(pos, "expected a term")),
            }
        }
        Ok(Expr::and(children))
    }

    /// `unary = { "-" | "NOT" } primary`
    fn unary(&mut self) -> Result<Expr, QueryError> {
        let mut negated = false;
        loop {
            let (kind, pos) = self.peek()?;
            let what = match kind {
                Kind::Minus => "'-'",
                Kind::Not => "NOT",
                _ => break,
            };
            self.bump()?;
            if !self.peek()?.0.starts_unary() {
                return Err(err(pos, format!("nothing to negate after {what}")));
            }
            negated = !negated;
        }
        let e = self.primary()?;
        Ok(if negated { e.negate() } else { e })
    }

    /// `primary = "(" or ")" | term`
    fn primary(&mut self) -> Result<Expr, QueryError> {
        let end = self.lexer.len();
        match self.bump()? {
            Some(Token {
                tok: Tok::Term(t), ..
            }) => Ok(Expr::Term(t)),
            Some(Token {
                tok: Tok::LParen,
                pos,
            }) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(err(
                        pos,
                        format!("parentheses nested too deeply: at most {MAX_DEPTH} levels"),
                    ));
                }
                match self.peek()?.0 {
                    Kind::RParen => return Err(err(pos, "empty parentheses")),
                    Kind::End => return Err(err(pos, "unclosed '('")),
                    _ => {}
                }
                let inner = self.or()?;
                match self.bump()? {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => {}
                    None => return Err(err(pos, "unclosed '('")),
                    Some(t) => return Err(err(t.pos, "unexpected token")),
                }
                self.depth -= 1;
                Ok(inner)
            }
            Some(t) => Err(err(t.pos, "expected a term")),
            None => Err(err(end, "expected a term")),
        }
    }
}
