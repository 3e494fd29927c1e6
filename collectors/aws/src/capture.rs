//! Keeping each API response body exactly as received.
//!
//! The SDK parses responses into types and drops the bytes; the audit rule is that the
//! bytes are the evidence. This interceptor copies every response body after the SDK
//! has buffered it, and counts the requests sent (retries included).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// One response as received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct Capture {
    responses: Arc<Mutex<Vec<Captured>>>,
    requests: Arc<AtomicUsize>,
}

impl Capture {
    /// The responses captured since the last call, oldest first.
    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.responses.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The last response captured since the last call: the one the SDK returned.
    pub fn last(&self) -> Option<Captured> {
        self.take().pop()
    }

    /// Requests sent through this capture so far, retries included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn counter(&self) -> Arc<AtomicUsize> {
        self.requests.clone()
    }

    /// Shares `counter` with other captures, to count an account's requests as one.
    pub fn with_counter(counter: Arc<AtomicUsize>) -> Self {
        Self {
            responses: Arc::default(),
            requests: counter,
        }
    }
}

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "evidra-evidence-capture"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        // The SDK buffers a non-streaming body to deserialize it, and leaves the buffer in
        // place; a streaming body (none of the operations we call) shows no bytes here.
        if let Some(bytes) = response.body().bytes() {
            let content_type = response
                .headers()
                .get("content-type")
                .unwrap_or("application/octet-stream")
                .to_owned();
            let captured = Captured {
                status: response.status().as_u16(),
                content_type,
                body: bytes.to_vec(),
            };
            self.responses.lock().unwrap_or_else(|p| p.into_inner()).push(captured);
        }
        Ok(())
    }
}
