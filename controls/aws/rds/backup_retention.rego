package controls.aws.rds.backup_retention

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

name(r) := n if {
	n := object.get(config(r), "dBInstanceIdentifier", null)
	is_string(n)
} else := r.id

minimum_days := 7

days(r) := object.get(config(r), "backupRetentionPeriod", null)

# A read replica is restored from its source's backups; its own retention is optional.
replica_of(r) := s if {
	s := object.get(config(r), "readReplicaSourceDBInstanceIdentifier", null)
	is_string(s)
	s != ""
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("%s is a read replica of %s: backups are taken from the source", [name(r), replica_of(r)])} if {
	some r in input.resources
	replica_of(r)
}

results contains {"resource": r.id, "status": "error", "message": "the instance's backupRetentionPeriod was not recorded"} if {
	some r in input.resources
	not replica_of(r)
	not is_number(days(r))
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s keeps automated backups for %d days (at least %d required)", [name(r), days(r), minimum_days])} if {
	some r in input.resources
	not replica_of(r)
	is_number(days(r))
	days(r) >= minimum_days
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s keeps automated backups for %d day(s) (at least %d required)", [name(r), days(r), minimum_days])} if {
	some r in input.resources
	not replica_of(r)
	is_number(days(r))
	days(r) > 0
	days(r) < minimum_days
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s has automated backups disabled (retention 0 days)", [name(r)])} if {
	some r in input.resources
	not replica_of(r)
	days(r) == 0
}
