//! `qipan user create`: bootstrap and scripted account creation.

use std::io::{BufRead, IsTerminal};

use super::GlobalArgs;
use crate::service::{AccountForm, Actor};

pub struct CreateArgs<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub roles: &'a str,
    pub unit: &'a str,
}

/// Reads the password from standard input when it is not a terminal: the first line, or the
/// first two lines when a confirmation follows (they must match). On a terminal: `None`, and a
/// password is generated and printed.
fn password_from_stdin() -> anyhow::Result<Option<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut lines = stdin.lock().lines();
    let first = lines.next().transpose()?.map(|l| l.trim_end_matches('\r').to_owned());
    let Some(first) = first.filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if let Some(second) = lines.next().transpose()? {
        let second = second.trim_end_matches('\r');
        if !second.is_empty() && second != first {
            anyhow::bail!("the two passwords read from standard input differ");
        }
    }
    Ok(Some(first))
}

pub async fn create(global: &GlobalArgs, args: &CreateArgs<'_>) -> anyhow::Result<()> {
    global.log_effective(&[("username", args.username.to_owned())]);
    let password = password_from_stdin()?;
    let app = global.open_app().await?;
    let console = Actor::console(domain::OrgCode::parse("00").expect("static code"));
    let roles: Vec<&str> = args.roles.split(',').collect();
    let form = AccountForm {
        username: args.username,
        display_name: args.display_name.unwrap_or(""),
        unit: args.unit,
        roles,
        password: password.as_deref(),
        must_change: false,
    };
    let result = app.create_account(&console, &form).await;
    app.store.close().await;
    let (id, generated) = result.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
    println!(
        "account {} created (id {id}) in unit {} with roles {}",
        args.username.trim().to_lowercase(),
        args.unit,
        args.roles
    );
    if let Some(p) = generated {
        println!("password: {p}");
    }
    Ok(())
}
