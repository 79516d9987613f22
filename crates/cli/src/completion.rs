//! Shell completion scripts. Bash, zsh, elvish and PowerShell come from `clap_complete`; fish is
//! written here, because `clap_complete`'s fish script stops two levels down and the Admin API
//! commands are up to six deep (`admin organization projects users roles create`). The fish
//! script follows the words typed so far, in either form (`admin:organization:users` or spaces).

use std::fmt::Write as _;

use clap::{ArgAction, Command};

/// The completion script for `shell`.
pub fn script(shell: clap_complete::Shell, mut command: Command) -> Vec<u8> {
    if shell == clap_complete::Shell::Fish {
        return fish(command).into_bytes();
    }
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "orgadmin", &mut out);
    out
}

/// A fish script: a helper that reads the command words typed so far (skipping flags and their
/// values, splitting the colon form), then one `complete` line per subcommand and per flag.
pub fn fish(mut command: Command) -> String {
    command.build();
    let mut value_flags = Vec::new();
    collect_value_flags(&command, &mut value_flags);
    value_flags.sort();
    value_flags.dedup();

    let mut out = String::new();
    out.push_str("# fish completion for orgadmin (orgadmin completion fish)\n");
    out.push_str("function __orgadmin_words\n");
    let _ = writeln!(
        out,
        "    set -l value_flags {}",
        value_flags
            .iter()
            .map(|f| format!("--{f}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    out.push_str(
        r#"    set -l words
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case '--*=*'
                continue
            case '-*'
                if contains -- $w $value_flags
                    set skip 1
                end
                continue
        end
        set -a words (string split ':' -- $w)
    end
    string join ' ' -- $words
end
function __orgadmin_is
    set -l words (__orgadmin_words)
    test "$words" = "$argv[1]"
end
function __orgadmin_in
    set -l words (__orgadmin_words)
    test "$words" = "$argv[1]"; or string match -q -- "$argv[1] *" "$words"
end
complete -c orgadmin -f
"#,
    );
    walk(&command, &mut Vec::new(), &mut out);
    out
}

fn collect_value_flags(command: &Command, flags: &mut Vec<String>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            if matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) {
                flags.push(long.to_owned());
            }
        }
    }
    for sub in command.get_subcommands() {
        collect_value_flags(sub, flags);
    }
}

fn walk(command: &Command, path: &mut Vec<String>, out: &mut String) {
    let here = path.join(" ");
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let _ = writeln!(
            out,
            "complete -c orgadmin -n {} -a {} -d {}",
            quote(&format!("__orgadmin_is '{here}'")),
            quote(sub.get_name()),
            quote(&about(sub))
        );
    }
    for arg in command.get_arguments() {
        if arg.is_hide_set() {
            continue;
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect();
        let help = arg
            .get_help()
            .map(|h| first_line(&h.to_string()))
            .unwrap_or_default();
        // Global flags are completed everywhere; a command's own flags under that command.
        let condition = if arg.is_global_set() {
            String::new()
        } else if path.is_empty() {
            format!(" -n {}", quote("__orgadmin_is ''"))
        } else {
            format!(" -n {}", quote(&format!("__orgadmin_in '{here}'")))
        };
        let mut line = format!("complete -c orgadmin{condition}");
        match (arg.get_long(), arg.get_short()) {
            (Some(long), short) => {
                let _ = write!(line, " -l {long}");
                if let Some(short) = short {
                    let _ = write!(line, " -s {short}");
                }
            }
            (None, Some(short)) => {
                let _ = write!(line, " -s {short}");
            }
            (None, None) => {
                // A positional argument: offer its values where the command is complete.
                if !values.is_empty() {
                    let _ = writeln!(
                        out,
                        "complete -c orgadmin -n {} -a {}",
                        quote(&format!("__orgadmin_is '{here}'")),
                        quote(&values.join(" "))
                    );
                }
                continue;
            }
        }
        if matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) {
            // A value is required, and it is never a file name.
            line.push_str(" -x");
            if !values.is_empty() {
                let _ = write!(line, " -a {}", quote(&values.join(" ")));
            }
        }
        if !help.is_empty() {
            let _ = write!(line, " -d {}", quote(&help));
        }
        out.push_str(&line);
        out.push('\n');
    }
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        path.push(sub.get_name().to_owned());
        walk(sub, path, out);
        path.pop();
    }
}

fn about(command: &Command) -> String {
    command
        .get_about()
        .map(|a| first_line(&a.to_string()))
        .unwrap_or_default()
}

/// The first sentence-line of a help text, without its final period.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.strip_suffix('.').unwrap_or(line).to_owned()
}

/// A fish single-quoted string.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_fish_script_reaches_the_deepest_commands() {
        let script = fish(crate::Cli::command());
        assert!(script.contains(
            "complete -c orgadmin -n '__orgadmin_is \\'admin organization projects users roles\\'' -a 'create'"
        ), "{script}");
        assert!(script.contains(
            "-n '__orgadmin_in \\'admin organization projects users roles create\\'' -l role-id -x"
        ));
        assert!(
            script.contains("complete -c orgadmin -l format -x -a 'auto json jsonl yaml table'")
        );
    }
}
