module gbcms/report

go 1.19
