//! Email through SMTP (`smtp_url`): a conversation's transcript to its contact, and the
//! offline form to the address a tenant's business hours name.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// One email: plain text, and an HTML part when there is one.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl Mailer {
    /// `smtp://host:port` (plain; `?tls=required` for STARTTLS) or `smtps://user:pass@host`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        Ok(Self {
            transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
                .build(),
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail_from: {e}"))?,
        })
    }

    /// Hand the email to the SMTP server; the error says why it would not take it.
    pub async fn send(&self, mail: Mail) -> Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("{e}"))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject);
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text);
        let message = match mail.html {
            Some(html) => builder.multipart(
                MultiPart::alternative().singlepart(text).singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
            ),
            None => builder.singlepart(text),
        }
        .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}
