//! Each delivered event is handled inside its own span, a child of the
//! span that made the event (its `traceparent`): the log lines of its
//! handling carry the event's trace id, and with traces exported
//! (`dueflow_telemetry`) it is the role's consumer span in the request's
//! trace.

use std::sync::Arc;

use async_trait::async_trait;
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::Envelope;
use dueflow_domain::trace::TraceParent;
use dueflow_telemetry::{Span, SpanKind};
use tracing::Instrument;

struct Traced {
    group: String,
    inner: Arc<dyn Handler>,
    /// Whether `inner` handles a batch as one piece of work; if not, each
    /// event of a batch is handled in its own span.
    batches: bool,
}

tokio::task_local! {
    /// The spans of the events being handled, by event id.
    static HANDLING: Vec<(String, TraceParent)>;
}

/// `inner`, consuming under `group`, with each event in its span.
pub fn traced(group: &str, inner: Arc<dyn Handler>) -> Arc<dyn Handler> {
    Arc::new(Traced {
        group: group.to_owned(),
        inner,
        batches: false,
    })
}

/// The same for a handler that takes a batch as one piece of work: each
/// event still gets its span, all of them the batch's duration.
pub fn traced_batches(group: &str, inner: Arc<dyn Handler>) -> Arc<dyn Handler> {
    Arc::new(Traced {
        group: group.to_owned(),
        inner,
        batches: true,
    })
}

/// The span of the events that handling the event `id`, made in the span
/// `made_by`, makes: the handling's own span, or, outside [`Traced`], a
/// new child of `made_by`.
pub(crate) fn handling(id: &str, made_by: TraceParent) -> TraceParent {
    HANDLING
        .try_with(|spans| spans.iter().find(|(e, _)| e == id).map(|(_, t)| *t))
        .ok()
        .flatten()
        .unwrap_or_else(|| made_by.child())
}

impl Traced {
    /// The consumer span of `m` (nothing when traces are not exported).
    fn span(&self, m: &Message, me: TraceParent, made_by: Option<TraceParent>) -> Span {
        if !dueflow_telemetry::enabled() {
            return Span::none();
        }
        let mut span = Span::start(
            SpanKind::Consumer,
            format!("process {}", m.topic),
            me,
            made_by,
        );
        span.set("messaging.operation.type", "process");
        span.set("messaging.destination.name", m.topic.clone());
        span.set("messaging.consumer.group.name", self.group.clone());
        span.set("messaging.message.id", m.id.clone());
        span
    }
}

fn made_by(m: &Message) -> Option<TraceParent> {
    Envelope::parse(&m.payload).ok().and_then(|e| e.trace())
}

fn failed(span: &mut Span, r: &Result<(), HandlerError>) {
    if let Err(e) = r {
        span.fail(e.to_string());
    }
}

#[async_trait]
impl Handler for Traced {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let made_by = made_by(m);
        let me = made_by.map_or_else(TraceParent::root, |t| t.child());
        let mut span = self.span(m, me, made_by);
        let logged = tracing::info_span!(
            "event",
            trace_id = %me.trace_id_hex(),
            id = %m.id,
            group = %self.group,
        );
        let handled = async {
            let r = self.inner.handle(m).await;
            tracing::debug!(topic = %m.topic, ok = r.is_ok(), "event handled");
            r
        };
        let r = HANDLING
            .scope(vec![(m.id.clone(), me)], handled)
            .instrument(logged)
            .await;
        failed(&mut span, &r);
        r
    }

    async fn handle_batch(&self, messages: &[Message]) -> Result<(), HandlerError> {
        if !self.batches {
            for m in messages {
                self.handle(m).await?;
            }
            return Ok(());
        }
        // With traces exported, each event's span, and the spans the
        // events its handling makes continue.
        let mut ids = Vec::new();
        let mut spans = Vec::new();
        if dueflow_telemetry::enabled() {
            for m in messages {
                let made_by = made_by(m);
                let me = made_by.map_or_else(TraceParent::root, |t| t.child());
                spans.push(self.span(m, me, made_by));
                ids.push((m.id.clone(), me));
            }
        }
        let logged = tracing::info_span!("events", count = messages.len(), group = %self.group);
        let r = HANDLING
            .scope(ids, self.inner.handle_batch(messages))
            .instrument(logged)
            .await;
        for span in &mut spans {
            failed(span, &r);
        }
        r
    }
}
