-- One database per service: each service owns its data and its migrations.
CREATE DATABASE intake;
CREATE DATABASE coordination;
CREATE DATABASE housing;
CREATE DATABASE notifications;
CREATE DATABASE gateway;
CREATE DATABASE partners;
