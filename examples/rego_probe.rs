// Throwaway: where regorus's time goes per resource. Not committed.
use std::time::Instant;

fn user(i: usize) -> String {
    let pw = i % 2 == 0;
    let key = i % 4 == 0;
    format!(r#"{{"id":"arn:aws:iam::1:user/u{i}","type":"aws.iam.user","provider":"aws","account":"1","region":"global","properties":{{"arn":"arn:aws:iam::123456789012:user/user{i:06}","attached_policies":[],"created":"2024-01-01T00:00:00+00:00","credential_report":{{"access_keys":[{{"active":{key},"last_rotated":"2026-01-01T00:00:00+00:00","last_used_date":"2026-11-10T00:00:00+00:00","last_used_region":"us-east-1","last_used_service":"s3","number":1}},{{"active":false,"last_rotated":null,"last_used_date":null,"last_used_region":null,"last_used_service":null,"number":2}}],"arn":"arn:aws:iam::123456789012:user/user{i:06}","certificates":[{{"active":false,"last_rotated":null,"number":1}},{{"active":false,"last_rotated":null,"number":2}}],"mfa_active":false,"password_enabled":{pw},"password_last_changed":"2026-01-01T00:00:00+00:00","password_last_used":"2026-11-10T00:00:00+00:00","password_next_rotation":null,"user":"user{i:06}","user_creation_time":"2024-01-01T00:00:00+00:00"}},"groups":["Developers"],"id":"AIDA{i:016}","inline_policies":[],"name":"user{i:06}","path":"/","permissions_boundary":null,"tags":{{}}}}}}"#)
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20000);
    let files: Vec<String> = std::env::args().skip(2).collect();
    let resources: Vec<regorus::Value> = (0..n).map(|i| regorus::Value::from_json_str(&user(i)).unwrap()).collect();
    let mut input = std::collections::BTreeMap::new();
    input.insert(regorus::Value::from("resources"), regorus::Value::from(resources));
    input.insert(regorus::Value::from("now_ns"), regorus::Value::from(1_790_000_000_000_000_000i64));
    let input = regorus::Value::from(input);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut engine = regorus::Engine::new();
        let pkg = engine.add_policy(file.clone(), text).unwrap();
        engine.set_input(input.clone());
        let repeat: usize = std::env::var("REPEAT").ok().and_then(|r| r.parse().ok()).unwrap_or(1);
        let t = Instant::now();
        let mut v = regorus::Value::Undefined;
        for _ in 0..repeat {
            v = engine.eval_rule(format!("{pkg}.results")).unwrap();
        }
        let took = t.elapsed().as_secs_f64() / repeat as f64;
        let len = match &v { regorus::Value::Array(a) => a.len(), regorus::Value::Set(s) => s.len(), _ => 0 };
        println!("{:>7.2} us/resource  {len:>6} results  {file}", took * 1e6 / n as f64);
    }
}
