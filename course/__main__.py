from course.cli import entry

entry()
