// dfuflash-qt: the kind of flasher an IDE embeds. A device list (USB devices and the simulated
// models), a file picker, Flash and Cancel, one progress bar per phase, and a log.
//
// The library is loaded at run time with QLibrary and dfuflash_get_api (no link-time
// dependency). The flash runs on a worker thread; progress reaches the GUI through queued
// signals; Cancel calls the thread-safe dfuflash_cancel.
//
//   dfuflash-qt [--library PATH] [--sim MODEL --file FILE [--address ADDR]]
//               [--smoke-test] [--screenshot PNG]
// --smoke-test starts the flash at once and exits 0 only if it verified.
#include <dfuflash.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLibrary>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <QWidget>

#include <atomic>

static const dfuflash_api *api = nullptr;

// Runs one flash on its own thread; talks to the GUI only through signals.
class Worker : public QThread {
    Q_OBJECT
  public:
    QString path;      // "sim:MODEL" or a USB port path
    QString file;
    bool has_address = false;
    quint32 address = 0;
    std::atomic<dfuflash_device *> device{nullptr};

    void cancel() {
        if (dfuflash_device *d = device.load()) api->cancel(d);  // thread-safe
    }

  signals:
    void progress(int phase, qulonglong done, qulonglong total, quint32 address);
    void logLine(QString line);
    void finished(bool ok, QString summary);

  protected:
    void run() override {
        dfuflash_device *dev = nullptr;
        dfuflash_image *img = nullptr;
        dfuflash_options *opts = nullptr;
        QByteArray p = path.toUtf8(), f = file.toUtf8();
        int32_t rc = path.startsWith("sim:") ? api->open_simulated(p.constData() + 4, nullptr, -1, &dev)
                                             : api->open(0, 0, nullptr, p.constData(), -1, nullptr, 0, &dev);
        if (rc == DFUFLASH_OK) rc = api->image_load(f.constData(), address, has_address, 0, &img);
        if (rc == DFUFLASH_OK) {
            api->options_new(&opts);
            api->options_set_user_data(opts, this);
            api->options_set_progress_callback(opts, &Worker::onProgress);
            api->options_set_log_callback(opts, &Worker::onLog);
            device.store(dev);
            rc = api->download(dev, img, opts);
            device.store(nullptr);
        }
        QString summary;
        if (rc == DFUFLASH_OK) {
            dfuflash_report r{};
            r.size = sizeof r;
            api->device_report(dev, &r);
            summary = QString("verified %1 bytes, %2 sectors erased, %3 unchanged sector(s) "
                              "skipped, Rev V recovery on %4 sector(s)")
                          .arg(r.bytes_verified)
                          .arg(r.sectors_erased_count)
                          .arg(r.sectors_skipped_count)
                          .arg(r.workaround_sectors_count);
        } else {
            summary = QString("%1: %2").arg(api->status_str(rc)).arg(api->last_error());
        }
        api->options_free(opts);
        api->image_free(img);
        api->device_close(dev);
        emit finished(rc == DFUFLASH_OK, summary);
    }

  private:
    static int32_t onProgress(void *user, const dfuflash_progress *p) noexcept {
        emit static_cast<Worker *>(user)->progress(p->phase, p->done, p->total, p->address);
        return DFUFLASH_CONTINUE;
    }
    static void onLog(void *user, int32_t level, const char *message) noexcept {
        if (level >= DFUFLASH_LOG_INFO) emit static_cast<Worker *>(user)->logLine(QString::fromUtf8(message));
    }
};

class Window : public QWidget {
    Q_OBJECT
  public:
    Window() {
        setWindowTitle("dfuflash");
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(new QLabel("Devices"));
        layout->addWidget(devices = new QListWidget);
        auto *row = new QHBoxLayout;
        row->addWidget(fileEdit = new QLineEdit);
        fileEdit->setPlaceholderText("firmware file (.dfu, .hex, .srec, .elf, .bin)");
        auto *browse = new QPushButton("Browse...");
        row->addWidget(browse);
        row->addWidget(addressEdit = new QLineEdit);
        addressEdit->setPlaceholderText("address (raw .bin)");
        layout->addLayout(row);
        const char *names[] = {"Erase", "Write", "Verify"};
        for (int i = 0; i < 3; i++) {
            auto *r = new QHBoxLayout;
            auto *label = new QLabel(names[i]);
            label->setMinimumWidth(50);
            r->addWidget(label);
            r->addWidget(bars[i] = new QProgressBar);
            layout->addLayout(r);
        }
        auto *buttons = new QHBoxLayout;
        buttons->addWidget(flashButton = new QPushButton("Flash"));
        buttons->addWidget(cancelButton = new QPushButton("Cancel"));
        cancelButton->setEnabled(false);
        layout->addLayout(buttons);
        layout->addWidget(log = new QPlainTextEdit);
        log->setReadOnly(true);
        resize(720, 560);
        connect(browse, &QPushButton::clicked, this, [this] {
            QString f = QFileDialog::getOpenFileName(this, "Firmware");
            if (!f.isEmpty()) fileEdit->setText(f);
        });
        connect(flashButton, &QPushButton::clicked, this, &Window::startFlash);
        connect(cancelButton, &QPushButton::clicked, this, [this] { worker.cancel(); });
        connect(&worker, &Worker::progress, this, &Window::onProgress, Qt::QueuedConnection);
        connect(&worker, &Worker::logLine, this, [this](const QString &l) { log->appendPlainText(l); }, Qt::QueuedConnection);
        connect(&worker, &Worker::finished, this, &Window::onFinished, Qt::QueuedConnection);
        refresh();
    }

    void refresh() {
        devices->clear();
        dfuflash_device_list *list = nullptr;
        if (api->device_list_new(DFUFLASH_LIST_SIMULATED, &list) != DFUFLASH_OK) return;
        for (size_t i = 0; i < api->device_list_count(list); i++) {
            dfuflash_device_desc d{};
            d.size = sizeof d;
            if (api->device_list_get(list, i, &d) != DFUFLASH_OK) continue;
            auto *item = new QListWidgetItem(QString("%1  %2:%3  %4")
                                                 .arg(d.path)
                                                 .arg(d.vendor_id, 4, 16, QChar('0'))
                                                 .arg(d.product_id, 4, 16, QChar('0'))
                                                 .arg(d.product ? d.product : ""));
            item->setData(Qt::UserRole, QString(d.path));
            devices->addItem(item);
        }
        api->device_list_free(list);
    }

    bool select(const QString &path) {
        for (int i = 0; i < devices->count(); i++)
            if (devices->item(i)->data(Qt::UserRole).toString() == path) {
                devices->setCurrentRow(i);
                return true;
            }
        return false;
    }

    QListWidget *devices;
    QLineEdit *fileEdit, *addressEdit;
    QProgressBar *bars[3];
    QPushButton *flashButton, *cancelButton;
    QPlainTextEdit *log;
    Worker worker;
    QString screenshot;
    bool smoke = false;
    bool shot = false;

  public slots:
    void startFlash() {
        if (!devices->currentItem() || fileEdit->text().isEmpty()) {
            log->appendPlainText("choose a device and a file");
            return;
        }
        worker.path = devices->currentItem()->data(Qt::UserRole).toString();
        worker.file = fileEdit->text();
        bool ok = false;
        worker.address = addressEdit->text().toUInt(&ok, 0);
        worker.has_address = ok;
        for (auto *b : bars) b->setValue(0);
        flashButton->setEnabled(false);
        cancelButton->setEnabled(true);
        log->appendPlainText(QString("flashing %1 onto %2").arg(worker.file, worker.path));
        worker.start();
    }

    void onProgress(int phase, qulonglong done, qulonglong total, quint32) {
        if (phase < DFUFLASH_PHASE_ERASE || phase > DFUFLASH_PHASE_VERIFY) return;
        QProgressBar *b = bars[phase - 1];
        b->setMaximum(1000);
        b->setValue(total ? int(done * 1000 / total) : 1000);
        if (!screenshot.isEmpty() && !shot && phase == DFUFLASH_PHASE_WRITE && done * 2 >= total) {
            shot = grab().save(screenshot);  // mid-flash: erase done, write half way
        }
    }

    void onFinished(bool ok, const QString &summary) {
        worker.wait();
        log->appendPlainText(ok ? "done: " + summary : "failed: " + summary);
        flashButton->setEnabled(true);
        cancelButton->setEnabled(false);
        if (smoke) {
            std::printf("%s: %s\n", ok ? "ok" : "failed", summary.toUtf8().constData());
            QApplication::exit(ok && bars[2]->value() == 1000 ? 0 : 1);
        }
    }
};

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    QCommandLineParser cli;
    cli.addHelpOption();
    QCommandLineOption libOpt("library", "path of libdfuflash", "PATH", "dfuflash");
    QCommandLineOption simOpt("sim", "select a simulated model", "MODEL");
    QCommandLineOption fileOpt("file", "firmware file", "FILE");
    QCommandLineOption addrOpt("address", "address of a raw binary", "ADDR");
    QCommandLineOption smokeOpt("smoke-test", "flash at once, exit 0 only if it verified");
    QCommandLineOption shotOpt("screenshot", "save a PNG of the window mid-flash", "PNG");
    cli.addOptions({libOpt, simOpt, fileOpt, addrOpt, smokeOpt, shotOpt});
    cli.process(app);

    QLibrary lib(cli.value(libOpt));
    auto get_api = reinterpret_cast<const dfuflash_api *(*)(uint32_t)>(lib.resolve("dfuflash_get_api"));
    // Headless runs (the smoke test) get the message on stderr only: a modal box would wait.
    const bool interactive = !cli.isSet(smokeOpt);
    if (!get_api) {
        std::fprintf(stderr, "dfuflash library not found: %s\n", lib.errorString().toUtf8().constData());
        if (interactive) QMessageBox::critical(nullptr, "dfuflash", "The dfuflash library was not found: " + lib.errorString());
        return 2;
    }
    api = get_api(DFUFLASH_ABI_MAJOR);
    if (!api) {
        std::fprintf(stderr, "dfuflash library does not implement ABI %d\n", DFUFLASH_ABI_MAJOR);
        if (interactive) QMessageBox::critical(nullptr, "dfuflash", "The dfuflash library is too old or too new for this program.");
        return 2;
    }

    Window w;
    w.screenshot = cli.value(shotOpt);
    w.smoke = cli.isSet(smokeOpt);
    if (cli.isSet(simOpt) && !w.select("sim:" + cli.value(simOpt))) {
        std::fprintf(stderr, "no simulated model %s\n", cli.value(simOpt).toUtf8().constData());
        return 2;
    }
    w.fileEdit->setText(cli.value(fileOpt));
    w.addressEdit->setText(cli.value(addrOpt));
    w.show();
    if (w.smoke) QTimer::singleShot(0, &w, &Window::startFlash);
    return app.exec();
}

#include "main.moc"
