-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d):
-- one database per service, since no service reads another service's database.
CREATE DATABASE pm_intake;
CREATE DATABASE pm_dispatch;
CREATE DATABASE pm_billing;
CREATE DATABASE pm_survey;
CREATE DATABASE pm_notification;
CREATE DATABASE pm_console;
